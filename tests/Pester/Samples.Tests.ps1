BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:modulePath = (Resolve-Path (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1')).Path
    $script:batchScript = (Resolve-Path (Join-Path $PSScriptRoot '../../samples/Invoke-CalStudioScheduledBatch.ps1')).Path
    function New-TestKey { "cs_test_$([guid]::NewGuid().ToString('N'))" }

    # Starts the script as a scheduled task does: a separate, non-interactive pwsh with -File and the key in its
    # environment. The process is pwsh itself (dotnet running pwsh.dll under `dotnet pwsh`), so a signal sent to it
    # reaches PowerShell.
    function Start-BatchScript {
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
        [pscustomobject]@{ Process = $p; Output = $p.StandardOutput.ReadToEndAsync(); ErrorOutput = $p.StandardError.ReadToEndAsync() }
    }

    function Wait-BatchScript($run) {
        if (-not $run.Process.WaitForExit(120000)) { $run.Process.Kill($true); throw 'The batch script did not finish within 120 s.' }
        $run.Process.WaitForExit()
        [pscustomobject]@{ ExitCode = $run.Process.ExitCode; Output = $run.Output.Result; ErrorOutput = $run.ErrorOutput.Result }
    }

    function Invoke-BatchScript {
        param([string[]] $Arguments, [hashtable] $Environment = @{})
        Wait-BatchScript (Start-BatchScript -Arguments $Arguments -Environment $Environment)
    }

    # Waits (not asserts) until the emulator has this many requests in flight: the run is then past its checks.
    function Wait-InFlight($emulator, [int] $count) {
        $deadline = [DateTime]::UtcNow.AddSeconds(90)
        while ((Get-CalStudioEmulatorStats $emulator -NoPrompts).inFlight -lt $count) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "The emulator never had $count requests in flight." }
            Start-Sleep -Milliseconds 100
        }
    }

    function New-InputCsv([string] $folder, [string[]] $prompts, [string] $name = 'in') {
        $null = New-Item -ItemType Directory $folder -Force
        $path = Join-Path $folder "$name.csv"
        $i = 0
        $prompts | ForEach-Object { $i++; [pscustomobject]@{ Id = "Q$i"; Prompt = $_; Owner = "team $i" } } |
            Export-Csv $path -NoTypeInformation -Encoding utf8
        $path
    }

    # A helpdesk export as admins have them: no Prompt column.
    function New-TicketCsv([string] $folder, [int] $count) {
        $null = New-Item -ItemType Directory $folder -Force
        $path = Join-Path $folder 'tickets.csv'
        1..$count | ForEach-Object { [pscustomobject]@{ Id = "T$_"; Subject = "subject $_"; Body = "body $_"; Owner = "owner $_" } } |
            Export-Csv $path -NoTypeInformation -Encoding utf8
        $path
    }

    # The script's files for an input are named after it: <input>.answers.csv, .journal.jsonl, .errors.log.
    function Get-OutputFile([string] $folder, [string] $inputName, [string] $kind) {
        $path = Join-Path $folder "$inputName.$kind"
        if (Test-Path $path) { Get-Item $path }
    }

    function Get-RequestCount($emulator) { (Get-CalStudioEmulatorStats $emulator -NoPrompts).requests }
}

Describe 'Invoke-CalStudioScheduledBatch.ps1' {
    BeforeAll {
        $script:k = New-TestKey
        $script:emu = Start-CalStudioEmulator -Key $k -ArgumentList '--latency-ms', '0-50'
        $script:base = @('-BaseUri', $emu.Uri.AbsoluteUri, '-AppName', 'scheduled')
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'exits 0 when every row is answered, keeping the input columns in a CSV named after the input' {
        $dir = Join-Path $TestDrive 'all-good'
        $csv = New-InputCsv $dir @('good 1', 'good 2', 'good 3') -name 'questions'
        $out = Join-Path $dir 'out'
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', $out, '-KeyProperty', 'Id') + $base) -Environment @{ CALSTUDIO_API_KEY = $k }
        $r.ExitCode | Should -Be 0 -Because $r.ErrorOutput
        @(Get-ChildItem $out -Name | Sort-Object) | Should -Be 'questions.answers.csv', 'questions.errors.log', 'questions.journal.jsonl', 'questions.lock'
        $rows = @(Import-Csv (Get-OutputFile $out 'questions' 'answers.csv').FullName)
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

    It 'exits 1 when a row fails for a reason a rerun may fix, logging it and carrying on with the others' {
        $dir = Join-Path $TestDrive 'one-bad'
        $csv = New-InputCsv $dir @('fine 1', 'emu:status:404 x', 'fine 3')
        $out = Join-Path $dir 'out'
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', $out, '-KeyProperty', 'Id') + $base) -Environment @{ CALSTUDIO_API_KEY = $k }
        $r.ExitCode | Should -Be 1 -Because $r.ErrorOutput
        $rows = @(Import-Csv (Get-OutputFile $out 'in' 'answers.csv').FullName)
        $rows.Id | Should -Be 'Q1', 'Q2', 'Q3'
        $rows.Success | Should -Be 'True', 'False', 'True'
        $rows[1].ErrorId | Should -Be 'ApiNotFound'
        $log = Get-Content (Get-OutputFile $out 'in' 'errors.log').FullName -Raw
        $log | Should -Match 'Row 2 Id=Q2 failed: \[ApiNotFound\]'
        $log | Should -Not -Match 'Q1|Q3'
    }

    It 'builds each prompt from the columns with -PromptTemplate, keeping the columns and the prompt sent' {
        $dir = Join-Path $TestDrive 'template'
        $csv = New-TicketCsv $dir 3
        $out = Join-Path $dir 'out'
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', $out, '-KeyProperty', 'Id',
                '-PromptTemplate', 'Summarise {{ticket}} {Id}: {Subject} / {body}') + $base) -Environment @{ CALSTUDIO_API_KEY = $k }
        $r.ExitCode | Should -Be 0 -Because $r.ErrorOutput
        $rows = @(Import-Csv (Get-OutputFile $out 'tickets' 'answers.csv').FullName)
        $rows[0].PSObject.Properties.Name[0..4] | Should -Be 'Id', 'Subject', 'Body', 'Owner', 'Prompt'
        $rows.Id | Should -Be 'T1', 'T2', 'T3'
        $rows.Prompt | Should -Be 'Summarise {ticket} T1: subject 1 / body 1', 'Summarise {ticket} T2: subject 2 / body 2', 'Summarise {ticket} T3: subject 3 / body 3'
        $stats = Get-CalStudioEmulatorStats $emu
        foreach ($p in $rows.Prompt) { $stats.prompts.$p.succeeded | Should -Be 1 -Because "the server received '$p' once" }
    }
}

Describe 'A journal with -PromptTemplate' {
    BeforeAll {
        $script:k = New-TestKey
        $script:emu = Start-CalStudioEmulator -Key $k
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'matches rows by the prompt the template made: a rerun sends nothing, a changed template sends again' {
        $dir = Join-Path $TestDrive 'template-journal'
        $csv = New-TicketCsv $dir 2
        $out = Join-Path $dir 'out'
        $run = { param($template) Invoke-BatchScript -Arguments @('-InputCsv', $csv, '-OutputFolder', $out, '-PromptTemplate', $template,
                '-BaseUri', $emu.Uri.AbsoluteUri, '-AppName', 'journaled') -Environment @{ CALSTUDIO_API_KEY = $k } }
        (& $run 'First {Subject}').ExitCode | Should -Be 0
        $again = & $run 'First {Subject}'
        $again.ExitCode | Should -Be 0 -Because $again.ErrorOutput
        (Import-Csv (Get-OutputFile $out 'tickets' 'answers.csv').FullName).FromJournal | Should -Be 'True', 'True'
        Get-RequestCount $emu | Should -Be 2 -Because 'the rerun read both answers from the journal'
        (& $run 'Second {Subject}').ExitCode | Should -Be 0
        $rows = @(Import-Csv (Get-OutputFile $out 'tickets' 'answers.csv').FullName)
        $rows.FromJournal | Should -Be 'False', 'False'
        $rows.Prompt | Should -Be 'Second subject 1', 'Second subject 2'
        Get-RequestCount $emu | Should -Be 4
    }
}

Describe 'Invoke-CalStudioScheduledBatch.ps1 fatal errors (exit 3) are found before any request' {
    BeforeAll {
        $script:k = New-TestKey
        $script:emu = Start-CalStudioEmulator -Key $k
        $script:base = @('-BaseUri', $emu.Uri.AbsoluteUri, '-AppName', 'scheduled')
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }
    BeforeEach { Reset-CalStudioEmulator $emu }

    It 'exits 3 without a key' {
        $dir = Join-Path $TestDrive 'no-key'
        $csv = New-InputCsv $dir @('never sent')
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', (Join-Path $dir 'out')) + $base)
        $r.ExitCode | Should -Be 3
        $r.ErrorOutput | Should -Match 'NoApiKey'
        (Get-Content (Get-OutputFile (Join-Path $dir 'out') 'in' 'errors.log').FullName -Raw) | Should -Match 'CALSTUDIO_API_KEY'
        Get-RequestCount $emu | Should -Be 0
    }

    It 'exits 3 for a missing input file' {
        $dir = Join-Path $TestDrive 'no-input'
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', (Join-Path $dir 'missing.csv'), '-OutputFolder', (Join-Path $dir 'out')) + $base) -Environment @{ CALSTUDIO_API_KEY = $k }
        $r.ExitCode | Should -Be 3
        $r.ErrorOutput | Should -Match 'InputCsvNotFound'
        Get-RequestCount $emu | Should -Be 0
    }

    It 'exits 3 with one log line for a CSV with no Prompt column and no -PromptTemplate' {
        $dir = Join-Path $TestDrive 'no-prompt-column'
        $csv = New-TicketCsv $dir 50
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', (Join-Path $dir 'out')) + $base) -Environment @{ CALSTUDIO_API_KEY = $k }
        $r.ExitCode | Should -Be 3
        $r.ErrorOutput | Should -Match 'NoPromptColumn'
        $r.ErrorOutput | Should -Match 'PromptTemplate'
        $log = @(Get-Content (Get-OutputFile (Join-Path $dir 'out') 'tickets' 'errors.log').FullName)
        $log.Count | Should -Be 3 -Because 'a start line, the reason and an end line'
        $log[0] | Should -Match 'Start: '
        $log[1] | Should -Match 'Id, Subject, Body, Owner'
        $log[2] | Should -Match 'End: exit 3; 50 rows: 0 done .* 50 left; 0 requests sent\.$'
        Get-RequestCount $emu | Should -Be 0
    }

    It 'exits 3 when -PromptTemplate names a column the CSV lacks, or is malformed' {
        $dir = Join-Path $TestDrive 'template-column'
        $csv = New-TicketCsv $dir 2
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', (Join-Path $dir 'out'), '-PromptTemplate', '{Subject} {Priority}') + $base) -Environment @{ CALSTUDIO_API_KEY = $k }
        $r.ExitCode | Should -Be 3
        $r.ErrorOutput | Should -Match "InvalidPromptTemplate.*Priority"
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', (Join-Path $dir 'out'), '-PromptTemplate', '{Subject') + $base) -Environment @{ CALSTUDIO_API_KEY = $k }
        $r.ExitCode | Should -Be 3
        $r.ErrorOutput | Should -Match "InvalidPromptTemplate.*not closed"
        Get-RequestCount $emu | Should -Be 0
    }

    It 'exits 3 when the API rejects the key, after its first request' {
        $dir = Join-Path $TestDrive 'bad-key'
        $csv = New-InputCsv $dir @('rejected 1', 'rejected 2')
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', (Join-Path $dir 'out'), '-ThrottleLimit', '1') + $base) -Environment @{ CALSTUDIO_API_KEY = 'cs_test_not_the_key' }
        $r.ExitCode | Should -Be 3
        $r.ErrorOutput | Should -Match 'ApiKeyRejected'
        Get-RequestCount $emu | Should -Be 1
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
        (Import-Csv (Get-OutputFile (Join-Path $dir 'out') 'in' 'answers.csv').FullName).Success | Should -Be 'True'
    }
}

Describe 'Invoke-CalStudioScheduledBatch.ps1 stopped (exit 4) or overlapping (exit 5)' {
    BeforeAll {
        $script:k = New-TestKey
        $script:emu = Start-CalStudioEmulator -Key $k
        $script:base = @('-BaseUri', $emu.Uri.AbsoluteUri, '-AppName', 'scheduled', '-KeyProperty', 'Id')
        $script:kill = (Get-Command kill -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
        # A process started with SIGINT ignored (a background job of a shell script) cannot be stopped by SIGINT at all.
        function Test-SigIntIgnored([int] $processId) {
            $line = Get-Content "/proc/$processId/status" -ErrorAction SilentlyContinue | Where-Object { $_ -like 'SigIgn:*' }
            $line -and ([Convert]::ToUInt64(($line -split '\s+')[-1], 16) -band 2)
        }
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'exits 4 with a log line when stopped by <Signal> while requests are in flight' -Skip:($IsWindows) -ForEach @(
        @{ Signal = 'INT' }, @{ Signal = 'TERM' }
    ) {
        $dir = Join-Path $TestDrive "stop-$Signal"
        $out = Join-Path $dir 'out'
        # The slow row sleeps on its first arrival only (x1), so the run after the stop finishes at once.
        $csv = New-InputCsv $dir @("quick $Signal", "emu:sleep:60000x1 slow $Signal")
        Reset-CalStudioEmulator $emu
        $run = Start-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', $out) + $base) -Environment @{ CALSTUDIO_API_KEY = $k }
        try {
            if (Test-SigIntIgnored $run.Process.Id) {
                Set-ItResult -Skipped -Because 'this test process tree was started with SIGINT ignored, so no signal can stop the child'
                return
            }
            Wait-InFlight $emu 1
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not (Get-CalStudioEmulatorStats $emu).prompts."quick $Signal".succeeded -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
            & $kill "-$Signal" $run.Process.Id
            $r = Wait-BatchScript $run
        }
        finally { if (-not $run.Process.HasExited) { $run.Process.Kill($true) } }
        $r.ExitCode | Should -Be 4 -Because $r.ErrorOutput
        $r.ErrorOutput | Should -Match 'stopped by Ctrl\+C or SIGTERM'
        $log = Get-Content (Get-OutputFile $out 'in' 'errors.log').FullName -Raw
        # The answers the script had received before the stop are in the CSV, not only in the journal. The quick row's
        # answer may still be on its way to the script when the signal comes (the server has answered it, the client
        # may not have), so the test holds the CSV to the log's count rather than to a fixed one.
        $log -match 'Stopped: \[Stopped\] .*, ([01]) of 2 rows done;' | Should -BeTrue -Because $log
        $done = [int]$Matches[1]
        $log | Should -Match "End: exit 4; 2 rows: $done done \($done answered, 0 of them from the journal, 0 failed, 0 needing their input fixed\), $(2 - $done) left; $done requests sent\."
        (Get-OutputFile $out 'in' 'answers.csv') | Should -Not -BeNullOrEmpty -Because 'a stop still writes the answers CSV'
        $stoppedRows = @(Import-Csv (Get-OutputFile $out 'in' 'answers.csv').FullName)
        $stoppedRows.Count | Should -Be $done
        if ($done) { $stoppedRows[0].Id | Should -Be 'Q1'; $stoppedRows[0].Success | Should -Be 'True' }
        # The next run continues: the quick row's answer was journaled before the stop, so only the slow row is sent.
        $next = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', $out) + $base) -Environment @{ CALSTUDIO_API_KEY = $k }
        $next.ExitCode | Should -Be 0 -Because $next.ErrorOutput
        $rows = @(Import-Csv (Get-OutputFile $out 'in' 'answers.csv').FullName)
        $rows.Id | Should -Be 'Q1', 'Q2'
        $rows.Success | Should -Be 'True', 'True'
        $rows.FromJournal | Should -Be 'True', 'False'
        (Get-CalStudioEmulatorStats $emu).prompts."quick $Signal".succeeded | Should -Be 1
    }

    It 'exits 5 when another run holds the input, sending nothing' {
        $dir = Join-Path $TestDrive 'overlap'
        $out = Join-Path $dir 'out'
        $csv = New-InputCsv $dir @('emu:sleep:60000 held 1', 'emu:sleep:60000 held 2')
        Reset-CalStudioEmulator $emu
        $first = Start-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', $out) + $base) -Environment @{ CALSTUDIO_API_KEY = $k }
        try {
            Wait-InFlight $emu 2
            $second = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', $out) + $base) -Environment @{ CALSTUDIO_API_KEY = $k }
            $first.Process.HasExited | Should -BeFalse -Because 'the first run still holds the input'
        }
        finally { $first.Process.Kill($true); $first.Process.WaitForExit() }
        $second.ExitCode | Should -Be 5 -Because $second.ErrorOutput
        $second.ErrorOutput | Should -Match 'JournalInUse'
        Get-RequestCount $emu | Should -Be 2 -Because 'only the first run sent its two rows'
    }
}

Describe 'Invoke-CalStudioScheduledBatch.ps1 across emulated days, in two time zones' {
    BeforeAll {
        $script:dayMs = 4000
        $script:k = New-TestKey
        # 4 requests a day; each emulated day lasts $dayMs (the emulator's Retry-After says when the next one starts).
        $script:emu = Start-CalStudioEmulator -Key $k -ArgumentList '--daily', '4', '--day-ms', $dayMs, '--latency-ms', '0-20'
        # Runs the script until it exits 0, each run after the cap in the next emulated day; returns the exit codes.
        function Invoke-UntilDone([string] $csv, [string] $out, [string[]] $zones, [string] $template) {
            $codes = [System.Collections.Generic.List[int]]::new()
            for ($run = 0; $run -lt 10; $run++) {
                $zone = $zones[$run % $zones.Count]
                $r = Invoke-BatchScript -Arguments @('-InputCsv', $csv, '-OutputFolder', $out, '-KeyProperty', 'Id',
                        '-PromptTemplate', $template, '-BaseUri', $emu.Uri.AbsoluteUri, '-AppName', 'daily') `
                    -Environment @{ CALSTUDIO_API_KEY = $k; TZ = $zone }
                $codes.Add($r.ExitCode)
                if ($r.ExitCode -ne 2) { break }
                $r.ErrorOutput | Should -Match 'DailyQuotaExhausted.*continues from .*tickets\.journal\.jsonl'
                Start-Sleep -Milliseconds $dayMs   # into the next emulated day, whenever in it
            }
            , $codes.ToArray()
        }
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'finishes a 12-row CSV under a 4-a-day cap with every run in <Label>, sending each row once' -ForEach @(
        @{ Label = 'Asia/Tokyo (east of UTC)'; Zones = @('Asia/Tokyo'); Name = 'tokyo' }
        @{ Label = 'America/Los_Angeles and Asia/Tokyo by turns (the local date changes between runs)'; Zones = @('America/Los_Angeles', 'Asia/Tokyo'); Name = 'alternating' }
    ) {
        $dir = Join-Path $TestDrive $Name
        $out = Join-Path $dir 'out'
        $csv = New-TicketCsv $dir 12
        # The case's name in the prompt: each case's rows are its own on the shared emulator.
        $codes = Invoke-UntilDone $csv $out $Zones "Answer $Name ticket {Id}: {Subject}"

        $codes[-1] | Should -Be 0 -Because "runs exited $($codes -join ', ')"
        $codes.Count | Should -BeGreaterOrEqual 2 -Because '12 rows do not fit in one day of 4'
        @($codes | Select-Object -SkipLast 1 | Where-Object { $_ -ne 2 }) | Should -BeNullOrEmpty -Because "every run before the last stopped at the cap ($($codes -join ', '))"

        $rows = @(Import-Csv (Get-OutputFile $out 'tickets' 'answers.csv').FullName)
        $rows.Id | Should -Be (1..12 | ForEach-Object { "T$_" })
        $rows.Owner | Should -Be (1..12 | ForEach-Object { "owner $_" })
        $rows.Success | Should -Be (1..12 | ForEach-Object { 'True' })
        $rows[0].PSObject.Properties.Name[0..3] | Should -Be 'Id', 'Subject', 'Body', 'Owner'
        for ($i = 0; $i -lt 12; $i++) { $rows[$i].Message | Should -Match "Answer $Name ticket T$($i + 1): subject $($i + 1)\b" -Because 'each row has its own answer' }

        $stats = Get-CalStudioEmulatorStats $emu
        foreach ($i in 1..12) {
            $prompt = "Answer $Name ticket T${i}: subject $i"
            $stats.prompts.$prompt.succeeded | Should -Be 1 -Because "'$prompt' was answered once"
        }
        @(Get-ChildItem $out -Name | Sort-Object) | Should -Be 'tickets.answers.csv', 'tickets.errors.log', 'tickets.journal.jsonl', 'tickets.lock'
    }
}

Describe 'Invoke-CalStudioScheduledBatch.ps1 exit codes say what to do' {
    BeforeAll {
        $script:k = New-TestKey
        $script:emu = Start-CalStudioEmulator -Key $k -ArgumentList '--latency-ms', '0-20'
        $script:base = @('-BaseUri', $emu.Uri.AbsoluteUri, '-AppName', 'exitcodes', '-KeyProperty', 'Id')
        # The script's own decision functions, as it defines them (the module gives Test-InputFault its ErrorId table).
        Import-Module $modulePath -Force
        $ast = [System.Management.Automation.Language.Parser]::ParseFile($batchScript, [ref]$null, [ref]$null)
        foreach ($name in 'Get-BatchExitCode', 'Test-InputFault') {
            $definition = $ast.Find({ param($n) $n -is [System.Management.Automation.Language.FunctionDefinitionAst] -and $n.Name -eq $name }, $true)
            . ([scriptblock]::Create($definition.Extent.Text))
        }
        function New-Stop([string] $errorId) {
            [System.Management.Automation.ErrorRecord]::new([System.Exception]::new('stop'), "$errorId,CalStudio.Commands.InvokeCalStudioPromptCommand", 'NotSpecified', $null)
        }
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'exits 7 when rows can never succeed as they are, naming them; the good rows are answered' {
        $dir = Join-Path $TestDrive 'fix-input'
        $csv = New-InputCsv $dir @('good one', '', 'emu:status:400 refused', 'good four')
        $out = Join-Path $dir 'out'
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', $out) + $base) -Environment @{ CALSTUDIO_API_KEY = $k }
        $r.ExitCode | Should -Be 7 -Because $r.ErrorOutput
        $rows = @(Import-Csv (Get-OutputFile $out 'in' 'answers.csv').FullName)
        $rows.Success | Should -Be 'True', 'False', 'False', 'True'
        $rows[1].ErrorId | Should -Be 'InvalidPrompt'
        $rows[2].ErrorId | Should -Be 'ApiBadRequest'
        $log = Get-Content (Get-OutputFile $out 'in' 'errors.log').FullName -Raw
        $log | Should -Match 'Row 2 Id=Q2 failed: \[InvalidPrompt\]'
        $log | Should -Match 'End: exit 7; 4 rows: 4 done \(2 answered, 0 of them from the journal, 2 failed, 2 needing their input fixed\), 0 left; 3 requests sent\.'
    }

    It 'takes the input ErrorIds from the module''s ErrorId table: <Id> is <Expected>' -ForEach @(
        @{ Id = 'InvalidPrompt'; Expected = $true }, @{ Id = 'InvalidFileUrl'; Expected = $true }, @{ Id = 'InvalidAppName'; Expected = $true }
        @{ Id = 'MissingAppName'; Expected = $true }, @{ Id = 'EmptyRowKey'; Expected = $true }, @{ Id = 'DuplicateRowKey'; Expected = $true }
        @{ Id = 'ApiBadRequest'; Expected = $true }
        @{ Id = 'ApiServerError'; Expected = $false }, @{ Id = 'ApiConnectionFailed'; Expected = $false }, @{ Id = 'ApiTimeout'; Expected = $false }
        @{ Id = 'ApiForbidden'; Expected = $false }, @{ Id = 'ApiNotFound'; Expected = $false }, @{ Id = 'NotAnErrorIdOfTheModule'; Expected = $false }
    ) {
        Test-InputFault $Id | Should -Be $Expected
    }

    It 'maps each stop to its code: <Id> exits <Code>' -ForEach @(
        @{ Id = 'ApiUnreachable'; Code = 6 }, @{ Id = 'JournalWriteFailed'; Code = 3 }, @{ Id = 'JournalInUse'; Code = 5 }
        @{ Id = 'DailyQuotaExhausted'; Code = 2 }, @{ Id = 'ApiKeyRejected'; Code = 3 }, @{ Id = 'NoApiKey'; Code = 3 }
    ) {
        Get-BatchExitCode -Fatal (New-Stop $Id) -FailedRows 5 -InputFaultRows 2 | Should -Be $Code
        Get-BatchExitCode -Fatal (New-Stop $Id) -Stopped $true | Should -Be 4 -Because 'a stop by Ctrl+C or SIGTERM wins'
    }

    It 'exits 7 over 1, 1 over 0' {
        Get-BatchExitCode -FailedRows 3 -InputFaultRows 1 | Should -Be 7
        Get-BatchExitCode -FailedRows 3 -InputFaultRows 0 | Should -Be 1
        Get-BatchExitCode -FailedRows 0 -InputFaultRows 0 | Should -Be 0
    }

    # The outage stop (ApiUnreachable) comes after 8 rows in a row fail on transport, so the input has more than 8.
    It 'exits 6 when the API is unreachable, saying how many rows were done' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $port = $listener.LocalEndpoint.Port
        $listener.Stop()   # nothing listens there now: every connection is refused
        $dir = Join-Path $TestDrive 'unreachable'
        $csv = New-InputCsv $dir @(1..12 | ForEach-Object { "never $_" })
        $out = Join-Path $dir 'out'
        $r = Invoke-BatchScript -Arguments @('-InputCsv', $csv, '-OutputFolder', $out, '-BaseUri', "http://127.0.0.1:$port/", '-AppName', 'x', '-KeyProperty', 'Id') -Environment @{ CALSTUDIO_API_KEY = $k }
        $r.ExitCode | Should -Be 6 -Because $r.ErrorOutput
        $r.ErrorOutput | Should -Match 'ApiUnreachable'
        $log = Get-Content (Get-OutputFile $out 'in' 'errors.log').FullName -Raw
        $log | Should -Match 'Stopped: \[ApiUnreachable\] .*\(\d+ of 12 rows done\)'
        $log | Should -Match 'End: exit 6; 12 rows: \d+ done'
    }

    It 'logs one start and one end line per run with the counts; a rerun from the journal sends nothing' {
        $dir = Join-Path $TestDrive 'start-end'
        $csv = New-InputCsv $dir @('counted 1', 'counted 2', 'counted 3')
        $out = Join-Path $dir 'out'
        foreach ($run in 1..2) {
            $r = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', $out) + $base) -Environment @{ CALSTUDIO_API_KEY = $k }
            $r.ExitCode | Should -Be 0 -Because $r.ErrorOutput
        }
        $log = @(Get-Content (Get-OutputFile $out 'in' 'errors.log').FullName)
        $log.Count | Should -Be 4
        $log[0] | Should -Match '^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d Start: .*in\.csv'
        $log[1] | Should -Match 'End: exit 0; 3 rows: 3 done \(3 answered, 0 of them from the journal, 0 failed, 0 needing their input fixed\), 0 left; 3 requests sent\.$'
        $log[2] | Should -Match 'Start: '
        $log[3] | Should -Match 'End: exit 0; 3 rows: 3 done \(3 answered, 3 of them from the journal, 0 failed, 0 needing their input fixed\), 0 left; 0 requests sent\.$'
    }

    It 'writes CompletedAt in ISO 8601 round-trip whatever the culture and time zone (<Culture>, <Zone>)' -ForEach @(
        @{ Culture = 'de-DE'; Zone = 'Asia/Kolkata' }, @{ Culture = 'en-US'; Zone = 'America/Los_Angeles' }
    ) {
        $dir = Join-Path $TestDrive "culture-$Culture"
        $csv = New-InputCsv $dir @("dated $Culture")
        $out = Join-Path $dir 'out'
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', $out) + $base) -Environment @{ CALSTUDIO_API_KEY = $k; TZ = $Zone; LANG = "$($Culture -replace '-', '_').UTF-8"; LC_ALL = "$($Culture -replace '-', '_').UTF-8" }
        $r.ExitCode | Should -Be 0 -Because $r.ErrorOutput
        $row = Import-Csv (Get-OutputFile $out 'in' 'answers.csv').FullName
        $row.CompletedAt | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}[+-]\d\d:\d\d$'
        $parsed = [DateTimeOffset]::ParseExact($row.CompletedAt, 'o', [cultureinfo]::InvariantCulture)
        ([DateTimeOffset]::UtcNow - $parsed).TotalHours | Should -BeLessThan 1 -Because 'it is the moment the row ended, with its offset'
    }
}
