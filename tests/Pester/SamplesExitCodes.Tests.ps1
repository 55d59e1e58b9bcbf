# The task script's (samples/Invoke-CalStudioScheduledBatch.ps1) exit codes and log lines: fatal errors (3), a stop
# (4), an overlapping run (5), an outage (6), rows to fix (7). Its answers and journal: Samples.Tests.ps1.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/ScheduledBatch.psm1') -Force
}

Describe 'Invoke-CalStudioScheduledBatch.ps1 fatal errors (exit 3) are found before any request' {
    BeforeAll {
        $script:k = New-CalStudioTestKey
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
        Get-CalStudioEmulatorRequestCount $emu | Should -Be 0
    }

    It 'exits 3 for a missing input file' {
        $dir = Join-Path $TestDrive 'no-input'
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', (Join-Path $dir 'missing.csv'), '-OutputFolder', (Join-Path $dir 'out')) + $base) -Environment @{ CALSTUDIO_API_KEY = $k }
        $r.ExitCode | Should -Be 3
        $r.ErrorOutput | Should -Match 'InputCsvNotFound'
        Get-CalStudioEmulatorRequestCount $emu | Should -Be 0
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
        Get-CalStudioEmulatorRequestCount $emu | Should -Be 0
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
        Get-CalStudioEmulatorRequestCount $emu | Should -Be 0
    }

    It 'exits 3 when the API rejects the key, after its first request' {
        $dir = Join-Path $TestDrive 'bad-key'
        $csv = New-InputCsv $dir @('rejected 1', 'rejected 2')
        $r = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', (Join-Path $dir 'out'), '-ThrottleLimit', '1') + $base) -Environment @{ CALSTUDIO_API_KEY = 'cs_test_not_the_key' }
        $r.ExitCode | Should -Be 3
        $r.ErrorOutput | Should -Match 'ApiKeyRejected'
        Get-CalStudioEmulatorRequestCount $emu | Should -Be 1
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
        $script:k = New-CalStudioTestKey
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
            Wait-CalStudioEmulatorInFlight $emu 1
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
            Wait-CalStudioEmulatorInFlight $emu 2
            $second = Invoke-BatchScript -Arguments (@('-InputCsv', $csv, '-OutputFolder', $out) + $base) -Environment @{ CALSTUDIO_API_KEY = $k }
            $first.Process.HasExited | Should -BeFalse -Because 'the first run still holds the input'
        }
        finally { $first.Process.Kill($true); $first.Process.WaitForExit() }
        $second.ExitCode | Should -Be 5 -Because $second.ErrorOutput
        $second.ErrorOutput | Should -Match 'JournalInUse'
        Get-CalStudioEmulatorRequestCount $emu | Should -Be 2 -Because 'only the first run sent its two rows'
    }
}

Describe 'Invoke-CalStudioScheduledBatch.ps1 exit codes say what to do' {
    BeforeAll {
        $script:k = New-CalStudioTestKey
        $script:emu = Start-CalStudioEmulator -Key $k -ArgumentList '--latency-ms', '0-20'
        $script:base = @('-BaseUri', $emu.Uri.AbsoluteUri, '-AppName', 'exitcodes', '-KeyProperty', 'Id')
        # The script's own decision functions, as it defines them (the module gives Test-InputFault its ErrorId table).
        Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
        $batchScript = Join-Path $PSScriptRoot '../../samples/Invoke-CalStudioScheduledBatch.ps1'
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
