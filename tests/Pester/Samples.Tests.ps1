# The task script (samples/Invoke-CalStudioScheduledBatch.ps1) run as a scheduled task runs it: its answers CSV,
# -PromptTemplate, its journal across runs and emulated days. Its exit codes: SamplesExitCodes.Tests.ps1.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/ScheduledBatch.psm1') -Force
}

Describe 'Invoke-CalStudioScheduledBatch.ps1' {
    BeforeAll {
        $script:k = New-CalStudioTestKey
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
        $script:k = New-CalStudioTestKey
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
        Get-CalStudioEmulatorRequestCount $emu | Should -Be 2 -Because 'the rerun read both answers from the journal'
        (& $run 'Second {Subject}').ExitCode | Should -Be 0
        $rows = @(Import-Csv (Get-OutputFile $out 'tickets' 'answers.csv').FullName)
        $rows.FromJournal | Should -Be 'False', 'False'
        $rows.Prompt | Should -Be 'Second subject 1', 'Second subject 2'
        Get-CalStudioEmulatorRequestCount $emu | Should -Be 4
    }
}

Describe 'Invoke-CalStudioScheduledBatch.ps1 across emulated days, in two time zones' {
    BeforeAll {
        $script:dayMs = 4000
        $script:k = New-CalStudioTestKey
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
