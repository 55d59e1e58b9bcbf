# Passes over one input sharing a journal, the journal report after a fixed rerun, and keys that fit real exports:
# composite keys and rows that repeat the same question. The built module against the emulator, over real sockets;
# what was sent is what the emulator received.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:Fq = { param($id) "$id,CalStudio.Commands.InvokeCalStudioPromptCommand" }
    function script:Connect-To($emu, [string] $App = 'helpdesk') {
        Connect-CalStudio -ApiKey (ConvertTo-SecureString $emu.Key -AsPlainText -Force) -BaseUri $emu.Uri -AppName $App -MaxRetries 0
    }
    function script:Get-Requests($emu) { (Get-CalStudioEmulatorStats $emu -NoPrompts).requests }
    function script:New-Tickets([int] $Count, [string] $Week = 'this week') {
        1..$Count | ForEach-Object { [pscustomobject]@{ Id = "T$_"; Subject = "printer $_ jammed $Week"; Owner = "owner$_" } }
    }
}

Describe 'Passes coexist on one journal' {
    BeforeAll { $script:emu = Start-CalStudioEmulator -ArgumentList '--latency-ms', '0-5' }
    AfterAll { $script:emu | Stop-CalStudioEmulator }
    BeforeEach { Reset-CalStudioEmulator $emu; Connect-To $emu }

    It 'answers a summary pass and a classification pass of the same tickets each from its own entries: the rerun of both sends 0' {
        $journal = Join-Path $TestDrive 'two-passes.jsonl'
        $tickets = New-Tickets 10
        $summaryPass = @{ PromptTemplate = 'Summarise: {Subject}'; JournalPath = $journal; KeyProperty = 'Id' }
        $classifyPass = @{ PromptTemplate = 'Classify: {Subject}'; JournalPath = $journal; KeyProperty = 'Id' }
        $firstSummary = @($tickets | Invoke-CalStudioPrompt @summaryPass)
        $firstClassify = @($tickets | Invoke-CalStudioPrompt @classifyPass)
        Get-Requests $emu | Should -Be 20

        $summary = @($tickets | Invoke-CalStudioPrompt @summaryPass)
        $classify = @($tickets | Invoke-CalStudioPrompt @classifyPass)
        Get-Requests $emu | Should -Be 20 -Because 'the rerun of both passes is answered from the journal'
        $summary.Count | Should -Be 10
        $classify.Count | Should -Be 10
        $summary.FromJournal + $classify.FromJournal | Should -Not -Contain $false
        $summary.Id | Should -Be $tickets.Id
        $summary.Message | Should -Be $firstSummary.Message
        $classify.Message | Should -Be $firstClassify.Message
        $summary.Message | ForEach-Object { $_ | Should -Match 'Summarise: printer' }
        $classify.Message | ForEach-Object { $_ | Should -Match 'Classify: printer' }
    }

    It 'passes to two apps and with two file URLs over one input also resume without resending' {
        $journal = Join-Path $TestDrive 'apps-files.jsonl'
        $tickets = New-Tickets 6
        $runs = @(
            @{ AppName = 'helpdesk' }, @{ AppName = 'triage' },
            @{ FileUrl = 'https://files.example/policy-a.pdf' }, @{ FileUrl = 'https://files.example/policy-b.pdf' }
        )
        foreach ($run in $runs) { $null = $tickets | Invoke-CalStudioPrompt -PromptTemplate 'About {Subject}' -JournalPath $journal -KeyProperty Id @run }
        Get-Requests $emu | Should -Be 24
        foreach ($run in $runs) {
            $again = @($tickets | Invoke-CalStudioPrompt -PromptTemplate 'About {Subject}' -JournalPath $journal -KeyProperty Id @run)
            $again.FromJournal | Should -Not -Contain $false
            $again.Count | Should -Be 6
        }
        Get-Requests $emu | Should -Be 24
    }

    It 'sends next week''s changed questions under the same Ids, and only those' {
        $journal = Join-Path $TestDrive 'weekly.jsonl'
        $lastWeek = New-Tickets 10 -Week 'last week'
        $null = $lastWeek | Invoke-CalStudioPrompt -PromptTemplate 'Summarise: {Subject}' -JournalPath $journal -KeyProperty Id
        $thisWeek = New-Tickets 10 -Week 'last week'
        foreach ($i in 2, 5, 9) { $thisWeek[$i].Subject = "changed question $i" }

        $out = @($thisWeek | Invoke-CalStudioPrompt -PromptTemplate 'Summarise: {Subject}' -JournalPath $journal -KeyProperty Id)
        Get-Requests $emu | Should -Be 13
        ($out | Where-Object { -not $_.FromJournal }).Id | Should -Be 'T3', 'T6', 'T10'
        ($out | Where-Object { -not $_.FromJournal }).Message | ForEach-Object { $_ | Should -Match 'changed question' }
        $out.Id | Should -Be $thisWeek.Id
    }
}

Describe 'The journal tells the current truth' {
    BeforeAll {
        $script:emu = Start-CalStudioEmulator -ArgumentList '--latency-ms', '0-5', '--app', 'helpdesk', '--app', 'triage'
        Connect-To $emu
        $script:journal = Join-Path $TestDrive 'fixed.jsonl'
        $script:tickets = New-Tickets 10
        # Monday's run names an app that does not exist: every row fails. Tuesday's fix changes the app.
        $null = $tickets | Invoke-CalStudioPrompt -AppName helpdsk -PromptTemplate 'Summarise: {Subject}' -JournalPath $journal -KeyProperty Id -ErrorAction SilentlyContinue -ErrorVariable script:mondayErrors
        # CompletedAt has sub-millisecond precision; a short wait keeps -Since between the runs clear of either.
        Start-Sleep -Milliseconds 50
        $script:between = Get-Date
        Start-Sleep -Milliseconds 50
        $script:fixed = @($tickets | Invoke-CalStudioPrompt -AppName helpdesk -PromptTemplate 'Summarise: {Subject}' -JournalPath $journal -KeyProperty Id)
        Disconnect-CalStudio
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'shows, after a fixed rerun, only answers: Group-Object Success has one group, -Failed returns nothing' {
        $mondayErrors.Count | Should -Be 10
        $mondayErrors[0].FullyQualifiedErrorId | Should -Be (& $Fq 'ApiNotFound')
        $fixed.Count | Should -Be 10
        $now = @(Get-CalStudioResponse -JournalPath $journal)
        $now.Count | Should -Be 10
        $groups = @($now | Group-Object Success)
        $groups.Count | Should -Be 1
        $groups[0].Name | Should -Be 'True'
        @(Get-CalStudioResponse -JournalPath $journal -Failed).Count | Should -Be 0
    }

    It 'gives each entry the Key and RowNumber of the run that wrote it' {
        $now = @(Get-CalStudioResponse -JournalPath $journal)
        ($now | Sort-Object RowNumber).Key | Should -Be $tickets.Id
        ($now.RowNumber | Sort-Object) | Should -Be (1..10)
        foreach ($entry in $now) { $entry.Key | Should -Be $tickets[$entry.RowNumber - 1].Id }
    }

    It 'shows the whole history with -All' {
        $all = @(Get-CalStudioResponse -JournalPath $journal -All)
        $all.Count | Should -Be 20
        @($all | Where-Object { -not $_.Success }).ErrorId | Sort-Object -Unique | Should -Be 'ApiNotFound'
        @(Get-CalStudioResponse -JournalPath $journal -All -Failed).Count | Should -Be 10
    }

    It 'narrows to one pass with -AppName and -Since before taking the newest entry of each key' {
        $monday = @(Get-CalStudioResponse -JournalPath $journal -AppName helpdsk)
        $monday.Count | Should -Be 10
        $monday.Success | Should -Not -Contain $true
        @(Get-CalStudioResponse -JournalPath $journal -AppName helpdsk -Failed).Count | Should -Be 10
        $tuesday = @(Get-CalStudioResponse -JournalPath $journal -Since $between)
        $tuesday.Count | Should -Be 10
        $tuesday.Success | Should -Not -Contain $false
        $tuesday.AppName | Sort-Object -Unique | Should -Be 'helpdesk'
        @(Get-CalStudioResponse -JournalPath $journal -Since $between -Failed).Count | Should -Be 0
    }

    It 'lists with -Failed the keys whose newest entry failed, and only those' {
        Connect-To $emu
        $copy = Join-Path $TestDrive 'partly.jsonl'
        $rows = New-Tickets 4
        $null = $rows | Invoke-CalStudioPrompt -AppName helpdsk -PromptTemplate 'Summarise: {Subject}' -JournalPath $copy -KeyProperty Id -ErrorAction SilentlyContinue
        $null = $rows[0, 2] | Invoke-CalStudioPrompt -AppName helpdesk -PromptTemplate 'Summarise: {Subject}' -JournalPath $copy -KeyProperty Id
        @(Get-CalStudioResponse -JournalPath $copy -Failed).Key | Sort-Object | Should -Be 'T2', 'T4'
        @(Get-CalStudioResponse -JournalPath $copy -Last 1).Key | Should -BeIn 'T1', 'T3'
        Disconnect-CalStudio
    }
}

Describe 'Keys that fit real exports' {
    BeforeAll { $script:emu = Start-CalStudioEmulator -ArgumentList '--latency-ms', '0-5' }
    AfterAll { $script:emu | Stop-CalStudioEmulator }
    BeforeEach { Reset-CalStudioEmulator $emu; Connect-To $emu }

    It 'sends one ticket to two apps in one run with -KeyProperty TicketId, AppName: no DuplicateRowKey, and resumes' {
        $journal = Join-Path $TestDrive 'composite.jsonl'
        $rows = foreach ($t in 1..5) { foreach ($app in 'summarizer', 'classifier') { [pscustomobject]@{ TicketId = "T$t"; AppName = $app; Prompt = "ticket $t, see policy" } } }
        $out = @($rows | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty TicketId, AppName -ErrorVariable errs)
        $errs.Count | Should -Be 0
        $out.Count | Should -Be 10
        Get-Requests $emu | Should -Be 10
        $out[1].Key | Should -Be 'T1, classifier'
        $out.AppName | Should -Be $rows.AppName
        foreach ($o in $out) { $o.Message | Should -Match "^$($o.AppName) answers" }

        $again = @($rows | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty TicketId, AppName)
        Get-Requests $emu | Should -Be 10
        $again.FromJournal | Should -Not -Contain $false
        $again.Message | Should -Be $out.Message
        (Get-CalStudioResponse -JournalPath $journal).Count | Should -Be 10
    }

    It 'refuses a composite key only when every column is blank, and a reused one only for another request' {
        $rows = [pscustomobject]@{ TicketId = ''; Part = ''; Prompt = 'no key at all' },
                [pscustomobject]@{ TicketId = 'T1'; Part = ''; Prompt = 'ticket with no part' },
                [pscustomobject]@{ TicketId = 'T1'; Part = ''; Prompt = 'ticket with no part, other question' }
        $out = @($rows | Invoke-CalStudioPrompt -KeyProperty TicketId, Part -ErrorVariable errs -ErrorAction SilentlyContinue)
        $out.Prompt | Should -Be 'ticket with no part'
        @($errs | ForEach-Object FullyQualifiedErrorId) | Should -Be (& $Fq 'EmptyRowKey'), (& $Fq 'DuplicateRowKey')
        Get-Requests $emu | Should -Be 1
    }

    It 'asks a question listed twice once, and writes its answer for each row in input order (<Name>)' -ForEach @(
        @{ Name = 'with a journal'; Journal = $true }
        @{ Name = 'without a journal'; Journal = $false }
    ) {
        $more = @{}
        if ($Journal) { $more.JournalPath = Join-Path $TestDrive "repeats-$([guid]::NewGuid().ToString('N')).jsonl" }
        # Rows between the copies, and a pause upstream before the second: the first copy is written by then (a repeat
        # then reads its answer back), where a copy close behind it follows the request still in flight.
        $rows = @([pscustomobject]@{ Id = 'A'; Prompt = 'listed twice'; Note = 'first copy' }) +
                @(1..40 | ForEach-Object { [pscustomobject]@{ Id = "B$_"; Prompt = "once $_"; Note = '' } }) +
                @([pscustomobject]@{ Id = 'A'; Prompt = 'listed twice'; Note = 'second copy' }) +
                @([pscustomobject]@{ Id = 'A'; Prompt = 'listed twice'; Note = 'third copy' })
        $paced = { process { if ($_.Note -eq 'second copy') { Start-Sleep -Milliseconds 500 }; $_ } }
        $out = @($rows | & $paced | Invoke-CalStudioPrompt -KeyProperty Id -ThrottleLimit 4 @more -ErrorVariable errs)
        $errs.Count | Should -Be 0
        (Get-CalStudioEmulatorStats $emu).prompts.'listed twice'.arrived | Should -Be 1
        Get-Requests $emu | Should -Be 41
        $out.Count | Should -Be 43
        $out.Id | Should -Be $rows.Id
        $copies = @($out | Where-Object Id -eq 'A')
        $copies.Note | Should -Be 'first copy', 'second copy', 'third copy'
        $copies.RowNumber | Should -Be 1, 42, 43
        $copies.Message | Sort-Object -Unique | Should -Be $copies[0].Message
        $copies.RequestId | Sort-Object -Unique | Should -Be $copies[0].RequestId

        if ($Journal) {
            $again = @($rows | Invoke-CalStudioPrompt -KeyProperty Id @more)
            Get-Requests $emu | Should -Be 41
            $again.Count | Should -Be 43
            (@($again | Where-Object Id -eq 'A')).Message | Should -Be $copies.Message
        }
    }

    It 'writes the failure of a question listed twice for each of its rows, sending it once' {
        $rows = [pscustomobject]@{ Id = 'F'; Prompt = 'emu:status:400 bad twice' },
                [pscustomobject]@{ Id = 'G'; Prompt = 'fine' },
                [pscustomobject]@{ Id = 'F'; Prompt = 'emu:status:400 bad twice' }
        $out = @($rows | Invoke-CalStudioPrompt -KeyProperty Id -ErrorVariable errs -ErrorAction SilentlyContinue)
        $out.Id | Should -Be 'G'
        @($errs | ForEach-Object FullyQualifiedErrorId) | Should -Be (& $Fq 'ApiBadRequest'), (& $Fq 'ApiBadRequest')
        @($errs | ForEach-Object { $_.TargetObject.Id }) | Should -Be 'F', 'F'
        (Get-CalStudioEmulatorStats $emu).prompts.'emu:status:400 bad twice'.arrived | Should -Be 1
    }

    It 'gives a resume command that quotes each column of a composite key' {
        Connect-CalStudio -ApiKey (ConvertTo-SecureString $emu.Key -AsPlainText -Force) -BaseUri $emu.Uri -AppName helpdesk -MaxRetries 0 -RequestsPerDay 2
        $journal = Join-Path $TestDrive 'resume.jsonl'
        $rows = 1..4 | ForEach-Object { [pscustomobject]@{ TicketId = "T$_"; AppName = 'helpdesk'; Prompt = "resume $_" } }
        $caught = $null
        try { $null = $rows | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty TicketId, AppName } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be (& $Fq 'DailyQuotaExhausted')
        $caught.Exception.Message | Should -Match ([regex]::Escape("-KeyProperty 'TicketId', 'AppName'"))
    }
}

Describe 'The task script with a composite key' {
    BeforeAll {
        $script:emu = Start-CalStudioEmulator -ArgumentList '--latency-ms', '0-5'
        Import-Module (Join-Path $PSScriptRoot '../Support/ScheduledBatch.psm1') -Force
        # As Task Scheduler or cron runs it: pwsh -File, so "TicketId,AppName" arrives as one argument.
        function script:Invoke-TaskScript([string[]] $Arguments) {
            $r = Invoke-BatchScript -Arguments (@('-BaseUri', $emu.Uri.AbsoluteUri) + $Arguments) -Environment @{ CALSTUDIO_API_KEY = $emu.Key }
            [pscustomobject]@{ ExitCode = $r.ExitCode; Output = $r.Output + $r.ErrorOutput }
        }
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'sends each ticket to both apps from a -File command line, resumes with nothing sent, and refuses a missing key column' {
        $dir = Join-Path $TestDrive 'task'
        $null = New-Item -ItemType Directory $dir -Force
        $csv = Join-Path $dir 'tickets.csv'
        $rows = foreach ($t in 1..3) { foreach ($app in 'summarizer', 'classifier') { [pscustomobject]@{ TicketId = "T$t"; AppName = $app; Prompt = "ticket $t" } } }
        $rows | Export-Csv $csv -NoTypeInformation -Encoding utf8
        $out = Join-Path $dir 'out'
        $first = Invoke-TaskScript @('-InputCsv', $csv, '-OutputFolder', $out, '-KeyProperty', 'TicketId,AppName')
        $first.ExitCode | Should -Be 0 -Because $first.Output
        Get-Requests $emu | Should -Be 6
        $answers = @(Import-Csv (Join-Path $out 'tickets.answers.csv'))
        $answers.Count | Should -Be 6
        $answers.Success | Should -Not -Contain 'False'

        $second = Invoke-TaskScript @('-InputCsv', $csv, '-OutputFolder', $out, '-KeyProperty', 'TicketId,AppName')
        $second.ExitCode | Should -Be 0 -Because $second.Output
        Get-Requests $emu | Should -Be 6
        @(Import-Csv (Join-Path $out 'tickets.answers.csv')).FromJournal | Should -Not -Contain 'False'

        $missing = Invoke-TaskScript @('-InputCsv', $csv, '-OutputFolder', (Join-Path $dir 'out2'), '-KeyProperty', 'TicketId,Queue')
        $missing.ExitCode | Should -Be 3 -Because $missing.Output
        $missing.Output | Should -Match "'Queue'"
        Get-Requests $emu | Should -Be 6
    }
}
