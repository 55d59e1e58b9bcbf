# Issue 19's "Done when": a 300-row helpdesk CSV with awkward content (quotes, line breaks in fields, accents) goes
# through Import-Csv | Invoke-CalStudioPrompt -ResponseFormat Json -ResponseSchema ... -JournalPath ... | Export-Csv
# against the emulator's JSON app; the valid rows get Category and Priority columns, the rest are AnswerNotValid
# with their re-asks counted, and a rerun sends nothing.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:schemaPath = (Resolve-Path (Join-Path $PSScriptRoot '../../samples/ticket.schema.json')).Path
    $key = "cs_test_$([guid]::NewGuid().ToString('N'))"
    $script:emu = Start-CalStudioEmulator -Key $key -ArgumentList '--json-app', 'helpdesk'
    Connect-CalStudio -ApiKey (ConvertTo-SecureString $key -AsPlainText -Force) -BaseUri $emu.Uri -AppName helpdesk -MaxRetries 0 -RequestsPerDay 100000
    function Requests { (Get-CalStudioEmulatorStats $emu -NoPrompts).requests }

    $subjects = 'Imprimante du 3ᵉ étage bloquée', 'Cannot log in: "account locked"', 'Excel crashes, again', 'Écran qui scintille',
                'VPN access for the new contractor', 'Outlook add-in missing; reinstall failed', 'Zugang für Jürgen', '日本語のファイル名が化ける'
    $script:csv = Join-Path $TestDrive 'tickets.csv'
    1..300 | ForEach-Object {
        [pscustomobject]@{
            TicketId = 'HD-{0:000}' -f $_
            Subject  = $subjects[$_ % $subjects.Count]
            Body     = "Line one of ticket $_, with ""quotes"" and a comma.`r`nLine two: café, naïve, 😀.`nLine three {braces} too."
            Owner    = @('ana', 'björn', 'chloé', "o'brien")[$_ % 4]
        }
    } | Export-Csv $csv -NoTypeInformation -Encoding utf8
    $script:template = 'Classify this helpdesk ticket. Answer with JSON {{"category": "Hardware|Software|Access", "priority": 1-5}}. Subject: {Subject} Body: {Body}'
}
AfterAll { $emu | Stop-CalStudioEmulator }

Describe 'A 300-row helpdesk CSV, end to end' {
    It 'writes Category and Priority for every valid row, makes the rest AnswerNotValid with re-asks counted, and a rerun sends nothing' {
        $journal = Join-Path $TestDrive 'tickets.journal.jsonl'
        $answersCsv = Join-Path $TestDrive 'answers.csv'
        $verbose = Join-Path $TestDrive 'verbose.txt'
        Import-Csv $csv |
            Invoke-CalStudioPrompt -PromptTemplate $template -ResponseFormat Json -ResponseSchema $schemaPath -KeyProperty TicketId -JournalPath $journal `
                -ErrorVariable failed -ErrorAction SilentlyContinue -Verbose 4> $verbose |
            Export-Csv $answersCsv -NoTypeInformation -Encoding utf8
        $sent = Requests

        $tickets = @(Import-Csv $csv)
        $answers = @(Import-Csv $answersCsv)
        ($answers.Count + $failed.Count) | Should -Be 300
        $answers.Count | Should -BeGreaterThan 250
        $failed.Count | Should -BeGreaterThan 0 -Because 'the emulator keeps about 1 prompt in 20 off-schema however often it is asked'
        $columns = $answers[0].PSObject.Properties.Name
        foreach ($c in 'TicketId', 'Subject', 'Body', 'Owner', 'Category', 'Priority', 'Summary', 'Due', 'Tags', 'AnswerFrom', 'Reasks', 'Message') { $columns | Should -Contain $c }
        $byId = @{}; foreach ($row in $tickets) { $byId[$row.TicketId] = $row }
        foreach ($a in $answers) {
            $a.Category | Should -BeIn 'Hardware', 'Software', 'Access'
            [int]$a.Priority | Should -BeIn (1..5)
            $a.Due | Should -Match '^\d{4}-\d{2}-\d{2}$'
            $a.Body | Should -BeExactly $byId[$a.TicketId].Body          # quotes, CRLF/LF and accents survive the round trip
            $a.Subject | Should -BeExactly $byId[$a.TicketId].Subject
            $a.Owner | Should -BeExactly $byId[$a.TicketId].Owner
        }
        $failed | ForEach-Object { $_.FullyQualifiedErrorId | Should -Be 'AnswerNotValid,CalStudio.Commands.InvokeCalStudioPromptCommand' }
        @($failed.TargetObject.TicketId | Sort-Object -Unique).Count | Should -Be $failed.Count
        $reasks = ($answers | ForEach-Object { [int]$_.Reasks } | Measure-Object -Sum).Sum + $failed.Count   # each given-up row had its one re-ask
        $sent | Should -Be (300 + $reasks)
        (Get-Content $verbose -Raw) | Should -Match ", $reasks re-asks for JSON"
        @($answers | Group-Object AnswerFrom | ForEach-Object Name | Sort-Object) | Should -Be 'Fenced', 'Prose', 'Whole'

        $rerun = @(Import-Csv $csv |
            Invoke-CalStudioPrompt -PromptTemplate $template -ResponseFormat Json -ResponseSchema $schemaPath -KeyProperty TicketId -JournalPath $journal `
                -ErrorVariable failedAgain -ErrorAction SilentlyContinue)
        Requests | Should -Be $sent
        $rerun.Count | Should -Be $answers.Count
        $failedAgain.Count | Should -Be $failed.Count
        Write-Host ("300-row run: {0} rows, {1} valid, {2} AnswerNotValid, {3} re-asks sent, {4} requests; rerun sent {5}" -f
            300, $answers.Count, $failed.Count, $reasks, $sent, ((Requests) - $sent))
    }
}
