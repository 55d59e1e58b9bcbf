BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:modulePath = (Resolve-Path (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1')).Path
    $script:batchScript = (Resolve-Path (Join-Path $PSScriptRoot '../../samples/Invoke-CalStudioScheduledBatch.ps1')).Path
    function New-TestKey { "cs_test_$([guid]::NewGuid().ToString('N'))" }

    # Runs the script as a scheduled task does: a separate, non-interactive pwsh with -File and the key in its environment.
    function Invoke-BatchScript {
        param([string[]] $Arguments, [hashtable] $Environment = @{})
        $self = (Get-Process -Id $PID).Path
        $psi = [System.Diagnostics.ProcessStartInfo]::new($self)
        if ($self -match 'dotnet(\.exe)?$') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($a in @('-NoProfile', '-NonInteractive', '-File', $batchScript, '-ModulePath', $modulePath) + $Arguments) { $psi.ArgumentList.Add([string]$a) }
        # Nothing inherited decides the key: each test says which one the task has (or that it has none).
        $psi.Environment['CALSTUDIO_API_KEY'] = ''
        foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        $p = [System.Diagnostics.Process]::Start($psi)
        $stdout = $p.StandardOutput.ReadToEndAsync()
        $stderr = $p.StandardError.ReadToEndAsync()
        if (-not $p.WaitForExit(120000)) { $p.Kill($true); throw 'The batch script did not finish within 120 s.' }
        $p.WaitForExit()
        [pscustomobject]@{ ExitCode = $p.ExitCode; Output = $stdout.Result; ErrorOutput = $stderr.Result }
    }

    function New-InputCsv([string] $folder, [string[]] $prompts) {
        $null = New-Item -ItemType Directory $folder -Force
        $path = Join-Path $folder 'in.csv'
        $i = 0
        $prompts | ForEach-Object { $i++; [pscustomobject]@{ Id = "Q$i"; Prompt = $_; Owner = "team $i" } } |
            Export-Csv $path -NoTypeInformation -Encoding utf8
        $path
    }

    function Get-DatedFile([string] $folder, [string] $prefix) {
        $files = @(Get-ChildItem $folder -Filter "$prefix-*" | Where-Object Name -match "^$prefix-\d{8}\.(csv|jsonl|log)$")
        $files.Count | Should -BeLessOrEqual 1 -Because "one $prefix file per day"
        $files | Select-Object -First 1
    }
}

Describe 'Invoke-CalStudioScheduledBatch.ps1' {
    BeforeAll {
        $script:k = New-TestKey
        $script:emu = Start-CalStudioEmulator -Key $k -ArgumentList '--latency-ms', '0-50'
        $script:base = @('-BaseUri', $emu.Uri.AbsoluteUri, '-AppName', 'scheduled')
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'exits 0 when every row is answered, keeping the input columns in a dated CSV' {
        $dir = Join-Path $TestDrive 'all-good'
        $csv = New-InputCsv $dir @('good 1', 'good 2', 'good 3')
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', (Join-Path $dir 'out'), '-KeyProperty', 'Id') + $base) -Environment @{ CALSTUDIO_API_KEY = $k }
        $r.ExitCode | Should -Be 0 -Because $r.ErrorOutput
        $answers = Get-DatedFile (Join-Path $dir 'out') 'answers'
        $answers | Should -Not -BeNullOrEmpty
        Get-DatedFile (Join-Path $dir 'out') 'journal' | Should -Not -BeNullOrEmpty
        Get-DatedFile (Join-Path $dir 'out') 'errors' | Should -BeNullOrEmpty
        $rows = @(Import-Csv $answers.FullName)
        $columns = $rows[0].PSObject.Properties.Name
        $columns[0..2] | Should -Be 'Id', 'Prompt', 'Owner'
        $columns | Should -Contain 'Message'
        $columns | Should -Contain 'Success'
        $columns | Should -Not -Contain '__CalStudioScheduledBatchRow'
        $rows.Id | Should -Be 'Q1', 'Q2', 'Q3'
        $rows.Owner | Should -Be 'team 1', 'team 2', 'team 3'
        $rows.Success | Should -Be 'True', 'True', 'True'
        $rows[0].Message | Should -Match 'good 1'
        $r.Output | Should -Match '3 rows, 3 answered'
    }

    It 'exits 1 when a row fails, logging it and carrying on with the others' {
        $dir = Join-Path $TestDrive 'one-bad'
        $csv = New-InputCsv $dir @('fine 1', 'emu:status:400 x', 'fine 3')
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', (Join-Path $dir 'out'), '-KeyProperty', 'Id') + $base) -Environment @{ CALSTUDIO_API_KEY = $k }
        $r.ExitCode | Should -Be 1 -Because $r.ErrorOutput
        $rows = @(Import-Csv (Get-DatedFile (Join-Path $dir 'out') 'answers').FullName)
        $rows.Id | Should -Be 'Q1', 'Q2', 'Q3'
        $rows.Success | Should -Be 'True', 'False', 'True'
        $rows[1].ErrorId | Should -Be 'ApiBadRequest'
        $log = Get-Content (Get-DatedFile (Join-Path $dir 'out') 'errors').FullName -Raw
        $log | Should -Match 'Row 2 Id=Q2 failed: \[ApiBadRequest\]'
        $log | Should -Not -Match 'Q1|Q3'
    }

    It 'exits 3 without a key, before sending anything' {
        $dir = Join-Path $TestDrive 'no-key'
        $csv = New-InputCsv $dir @('never sent')
        Reset-CalStudioEmulator $emu
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', (Join-Path $dir 'out')) + $base)
        $r.ExitCode | Should -Be 3
        $r.ErrorOutput | Should -Match 'NoApiKey'
        (Get-Content (Get-DatedFile (Join-Path $dir 'out') 'errors').FullName -Raw) | Should -Match 'CALSTUDIO_API_KEY'
        (Get-CalStudioEmulatorStats $emu -NoPrompts).requests | Should -Be 0
    }

    It 'exits 3 when the API rejects the key' {
        $dir = Join-Path $TestDrive 'bad-key'
        $csv = New-InputCsv $dir @('rejected 1', 'rejected 2')
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', (Join-Path $dir 'out')) + $base) -Environment @{ CALSTUDIO_API_KEY = 'cs_test_not_the_key' }
        $r.ExitCode | Should -Be 3
        $r.ErrorOutput | Should -Match 'ApiKeyRejected'
    }

    It 'exits 3 for a missing input file' {
        $dir = Join-Path $TestDrive 'no-input'
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', (Join-Path $dir 'missing.csv'), '-OutputFolder', (Join-Path $dir 'out')) + $base) -Environment @{ CALSTUDIO_API_KEY = $k }
        $r.ExitCode | Should -Be 3
    }

    It 'reads the key from SecretManagement with -SecretName' {
        # A stand-in for Microsoft.PowerShell.SecretManagement: Get-Secret returns a SecureString, as the real one does.
        $modules = Join-Path $TestDrive 'fake-modules'
        $fake = Join-Path $modules 'Microsoft.PowerShell.SecretManagement'
        $null = New-Item -ItemType Directory $fake -Force
        Set-Content (Join-Path $fake 'Microsoft.PowerShell.SecretManagement.psm1') -Value @"
function Get-Secret { param([string] `$Name, [string] `$Vault)
    if (`$Name -ne 'CalStudioTestSecret') { throw "no secret `$Name" }
    ConvertTo-SecureString '$k' -AsPlainText -Force }
"@
        $dir = Join-Path $TestDrive 'secret'
        $csv = New-InputCsv $dir @('from the vault')
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', (Join-Path $dir 'out'), '-SecretName', 'CalStudioTestSecret') + $base) `
            -Environment @{ PSModulePath = $modules + [IO.Path]::PathSeparator + $env:PSModulePath }
        $r.ExitCode | Should -Be 0 -Because $r.ErrorOutput
        (Import-Csv (Get-DatedFile (Join-Path $dir 'out') 'answers').FullName).Success | Should -Be 'True'
    }
}

Describe 'Invoke-CalStudioScheduledBatch.ps1 and the daily cap' {
    BeforeAll {
        $script:k = New-TestKey
        $script:emu = Start-CalStudioEmulator -Key $k -ArgumentList '--daily', '3', '--latency-ms', '0-50'
        $script:dir = Join-Path $TestDrive 'daily'
        $script:prompts = 1..5 | ForEach-Object { "capped prompt $_" }
        $script:csv = New-InputCsv $dir $prompts
        $script:out = Join-Path $dir 'out'
        $script:run = { Invoke-BatchScript -Arguments @('-InputCsv', $csv, '-OutputFolder', $out, '-KeyProperty', 'Id', '-BaseUri', $emu.Uri.AbsoluteUri, '-AppName', 'capped') -Environment @{ CALSTUDIO_API_KEY = $k } }
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'exits 2 when the daily cap stops it, keeping what was answered' {
        $r = & $run
        $r.ExitCode | Should -Be 2 -Because $r.ErrorOutput
        $r.ErrorOutput | Should -Match 'DailyQuotaExhausted'
        $r.ErrorOutput | Should -Match 'journal-\d{8}\.jsonl'
        $partial = @(Import-Csv (Get-DatedFile $out 'answers').FullName)
        $partial.Count | Should -Be 3
        $partial.Success | Should -Be 'True', 'True', 'True'
        (Get-Content (Get-DatedFile $out 'errors').FullName -Raw) | Should -Match 'Stopped: \[DailyQuotaExhausted\]'
    }

    It 'resumes from the journal after the reset, exits 0 and rewrites the complete CSV in input order' {
        Reset-CalStudioEmulator $emu -DayOnly
        $r = & $run
        $r.ExitCode | Should -Be 0 -Because $r.ErrorOutput
        $rows = @(Import-Csv (Get-DatedFile $out 'answers').FullName)
        $rows.Id | Should -Be 'Q1', 'Q2', 'Q3', 'Q4', 'Q5'
        $rows.Prompt | Should -Be $prompts
        $rows.Success | Should -Be 'True', 'True', 'True', 'True', 'True'
        @($rows | Where-Object FromJournal -eq 'True').Count | Should -Be 3
        $stats = Get-CalStudioEmulatorStats $emu
        foreach ($p in $prompts) { $stats.prompts.$p.succeeded | Should -Be 1 -Because $p }
    }
}
