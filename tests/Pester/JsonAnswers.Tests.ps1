# -ResponseFormat Json over real sockets: the built module against the emulator's --json-app, which answers each prompt
# with JSON in a form chosen by its hash or by a [json:FORM] tag (whole, fenced, fenced-plain, prose, invalid, nojson,
# offschema, stubborn). Counts come from what the emulator received.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:Fq = { param($id) "$id,CalStudio.Commands.InvokeCalStudioPromptCommand" }
    $script:schemaPath = (Resolve-Path (Join-Path $PSScriptRoot '../../samples/ticket.schema.json')).Path
    $script:reaskOpening = 'Your previous answer could not be used as JSON.'
    function Requests($emu) { (Get-CalStudioEmulatorStats $emu -NoPrompts).requests }
    function Start-JsonEmulator([string[]] $more = @(), [int] $maxRetries = 0) {
        $key = New-CalStudioTestKey
        $emu = Start-CalStudioEmulator -Key $key -ArgumentList (@('--json-app', 'helpdesk') + $more)
        Connect-CalStudio -ApiKey (ConvertTo-SecureString $key -AsPlainText -Force) -BaseUri $emu.Uri -AppName helpdesk -MaxRetries $maxRetries -RetryDelaySec 0.1 -RequestsPerDay 100000
        $emu
    }
    # -WhatIf writes to the host, so its one line is read back from a transcript.
    function WhatIfLine([scriptblock] $run) {
        $transcript = Join-Path $TestDrive "whatif-$([guid]::NewGuid().ToString('N')).txt"
        $null = Start-Transcript -Path $transcript
        try { $null = & $run } finally { $null = Stop-Transcript }
        @(Get-Content $transcript | Where-Object { $_ -match 'What if' }) -join "`n"
    }
    function Ticket([string] $id, [string] $form, [string] $text = 'the printer jams') {
        [pscustomobject]@{ TicketId = $id; Prompt = "Classify this ticket as JSON. [json:$form] $text" }
    }
}

Describe 'Finding the JSON in each form' {
    BeforeAll { $script:emu = Start-JsonEmulator }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'takes the whole message, a fenced block with or without the json tag, and an object in prose, and says which' {
        $rows = 'whole', 'fenced', 'fenced-plain', 'prose' | ForEach-Object { Ticket $_ $_ }
        $out = @($rows | Invoke-CalStudioPrompt -ResponseFormat Json -KeyProperty TicketId)
        $out.Count | Should -Be 4
        $out.AnswerFrom | Should -Be 'Whole', 'Fenced', 'Fenced', 'Prose'
        $out.Category | Should -Be 'Hardware', 'Hardware', 'Hardware', 'Hardware'   # "printer" decides, as a model would
        $out | ForEach-Object { $_.Priority | Should -BeOfType [long] }
        $out | ForEach-Object { $_.Due | Should -BeOfType [string] }               # a date-like string stays a string
        $out[0].Tags | Should -Be '["helpdesk","hardware"]'                          # an array is compact JSON in its cell
        $out[1].Message | Should -Match '^Here is the classification:'             # the surrounding text is kept
        $out[3].Message | Should -Match 'I hope that helps\.$'
        $out.Reasks | Should -Be 0, 0, 0, 0
        Requests $emu | Should -Be 4
    }

    It 'shows the answer columns in Format-Table and writes them with Export-Csv' {
        $out = Ticket 'T-9' 'whole' 'my password expired' | Invoke-CalStudioPrompt -ResponseSchema $schemaPath -KeyProperty TicketId
        $table = $out | Format-Table | Out-String
        $table | Should -Match 'Key\s+Category\s+Priority\s+Summary'
        $table | Should -Match 'T-9\s+Access'
        $csv = Join-Path $TestDrive 'one.csv'
        $out | Export-Csv $csv -NoTypeInformation
        $back = Import-Csv $csv
        $back.TicketId | Should -Be 'T-9'
        $back.Category | Should -Be 'Access'
        $back.Priority | Should -Be ([string]$out.Priority)
        # The session history holds the response alone, as documented: not the output's input or answer columns.
        $kept = Get-CalStudioResponse -Last 1
        $kept.Key | Should -Be 'T-9'
        @($kept.PSObject.Properties | Where-Object MemberType -EQ NoteProperty).Count | Should -Be 0
        $kept.PSObject.TypeNames | Should -Not -Contain $out.PSObject.TypeNames[0]
    }
}

Describe 'Re-asks: counted, paced and in -WhatIf' {
    BeforeAll { $script:emu = Start-JsonEmulator '--rpm', '20', '--window-ms', '2000' -maxRetries 3 }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'asks again once for invalid JSON, no JSON and an off-schema answer, and each re-ask is a paced request in the daily count' {
        $rows = 1..16 | ForEach-Object { Ticket "R$_" (@('whole', 'invalid', 'nojson', 'offschema')[$_ % 4]) "ticket number $_" }
        $out = @($rows | Invoke-CalStudioPrompt -ResponseSchema $schemaPath -KeyProperty TicketId -ThrottleLimit 4 -Verbose -ErrorVariable failed -ErrorAction SilentlyContinue 4>&1)
        $answers = @($out | Where-Object { $_ -is [psobject] -and $_.PSObject.Properties['TicketId'] })
        $summary = @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'CalStudio batch:*' })
        $failed | Should -BeNullOrEmpty
        $answers.Count | Should -Be 16
        ($answers | Where-Object Reasks -EQ 1).Count | Should -Be 12
        $stats = Get-CalStudioEmulatorStats $emu
        $tooMany = if ($stats.statusCounts.PSObject.Properties['429']) { $stats.statusCounts.'429' } else { 0 }
        $tooMany | Should -BeLessOrEqual 1 -Because 're-asks wait for their pacing turn like any request'
        ($answers | Measure-Object Attempts -Sum).Sum | Should -Be (28 + $tooMany)   # a re-ask is in Attempts
        $summary[0].Message | Should -Match ', 12 re-asks for JSON'
        $summary[0].Message | Should -Match ", $tooMany retries,"
        $stats.requests | Should -Be (28 + $tooMany)
        @($stats.prompts.PSObject.Properties.Name | Where-Object { $_.StartsWith($reaskOpening) }).Count | Should -Be 12
        (Get-CalStudioConnection).RequestsToday | Should -Be (28 + $tooMany)
    }

    It 'sends a re-ask ahead of the rows not yet sent, so a paid answer is finished (and journaled) before new rows are paid for' {
        Reset-CalStudioEmulator $emu
        # 40 rows; the first is invalid, all others valid. Its re-ask must not wait behind the 39 others.
        $rows = 1..40 | ForEach-Object { Ticket "Q$_" $(if ($_ -eq 1) { 'invalid' } else { 'whole' }) "queued ticket $_" }
        $out = @($rows | Invoke-CalStudioPrompt -ResponseSchema $schemaPath -KeyProperty TicketId -ThrottleLimit 2)
        $out.Count | Should -Be 40
        $out[0].Reasks | Should -Be 1
        $order = @(Get-CalStudioEmulatorRequests $emu -Last 100 | ForEach-Object { ($_.body | ConvertFrom-Json).prompt })
        @($order | Select-Object -Unique).Count | Should -Be 41   # 40 prompts and one re-ask (a paced retry of a 429 may repeat one)
        $reaskAt = [array]::FindIndex([string[]]$order, [Predicate[string]] { param($p) $p.StartsWith($reaskOpening) })
        # Counted from the invalid row's own send: rows start on the thread pool, and a loaded machine may send it late.
        $invalidAt = [array]::IndexOf([string[]]$order, $rows[0].Prompt)
        $invalidAt | Should -BeGreaterOrEqual 0
        ($reaskAt - $invalidAt) | Should -BeLessThan 12 -Because 'two in flight: the re-ask takes the first slot free after the invalid answer, not the 41st'
    }

    It 'gives -WhatIf an upper bound that includes the re-asks, and the rate seen so far from the journal' {
        $journal = Join-Path $TestDrive 'whatif.jsonl'
        $before = Requests $emu
        $rows = 1..10 | ForEach-Object { Ticket "W$_" (@('whole', 'invalid')[$_ % 2]) "what if $_" }
        $text = WhatIfLine { $rows | Invoke-CalStudioPrompt -ResponseSchema $schemaPath -KeyProperty TicketId -JournalPath $journal -WhatIf }
        $text | Should -Match 'Send up to 20 requests to CalStudio: 10 of 10 prompts and at most 10 re-asks \(0 already answered'
        Requests $emu | Should -Be $before
        $null = $rows[0..3] | Invoke-CalStudioPrompt -ResponseSchema $schemaPath -KeyProperty TicketId -JournalPath $journal
        $text = WhatIfLine { $rows | Invoke-CalStudioPrompt -ResponseSchema $schemaPath -KeyProperty TicketId -JournalPath $journal -WhatIf }
        $text | Should -Match 'Send up to 12 requests to CalStudio: 6 of 10 prompts and at most 6 re-asks, about 3 at the re-ask rate seen so far \(4 already answered in the journal\)'
        $text = WhatIfLine { $rows | Invoke-CalStudioPrompt -ResponseSchema $schemaPath -KeyProperty TicketId -JournalPath $journal -MaxReasks 3 -WhatIf }
        $text | Should -Match 'Send up to 24 requests to CalStudio: 6 of 10 prompts and at most 18 re-asks'
        $text | Should -Match "that uses up to 24 of today's"
        Requests $emu | Should -Be ($before + 6)
    }
}

Describe 'AnswerNotValid' {
    BeforeAll { $script:emu = Start-JsonEmulator }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'is a non-terminating row error with the raw answer and the reasons, and the batch goes on' {
        $rows = (Ticket 'A1' 'whole'), (Ticket 'A2' 'stubborn'), (Ticket 'A3' 'prose')
        $out = @($rows | Invoke-CalStudioPrompt -ResponseSchema $schemaPath -KeyProperty TicketId -ErrorVariable failed -ErrorAction SilentlyContinue)
        $out.TicketId | Should -Be 'A1', 'A3'
        $failed.Count | Should -Be 1
        $e = $failed[0]
        $e.FullyQualifiedErrorId | Should -Be (& $Fq 'AnswerNotValid')
        $e.CategoryInfo.Category | Should -Be 'InvalidResult'
        $e.TargetObject.TicketId | Should -Be 'A2'
        $e.Exception.Message | Should -Match "^Row A2 \(row 2\): The answer is not usable JSON for the schema after 1 re-ask: category: 'Printers' is not one of Hardware, Software, Access; priority: 7 is above the maximum 5\."
        $e.Exception.Message | Should -Match 'The answer was: \{"category":"Printers","priority":7'
        $e.ErrorDetails.RecommendedAction | Should -Match 'Get-CalStudioResponse -Failed'
        $listed = @(Get-CalStudioResponse -Failed | Where-Object Key -EQ 'A2')
        $listed.Count | Should -Be 1
        $listed[0].ErrorId | Should -Be 'AnswerNotValid'
        $listed[0].Message | Should -Match '^\{"category":"Printers","priority":7,'
        $listed[0].Attempts | Should -Be 2
        Requests $emu | Should -Be 4
    }

    It 'comes at once with -MaxReasks 0: one request per row' {
        $before = Requests $emu
        $null = Ticket 'Z1' 'invalid' | Invoke-CalStudioPrompt -ResponseFormat Json -MaxReasks 0 -KeyProperty TicketId -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -Be (& $Fq 'AnswerNotValid')
        $failed[0].Exception.Message | Should -Match 'the answer is not valid JSON'
        Requests $emu | Should -Be ($before + 1)
    }

    It 'refuses a schema keyword outside the subset by name when the batch starts, before anything is sent' {
        $before = Requests $emu
        $bad = Join-Path $TestDrive 'bad.schema.json'
        Set-Content $bad '{"type":"object","properties":{"due":{"type":"string","format":"date"}}}'
        { Ticket 'B1' 'whole' | Invoke-CalStudioPrompt -ResponseSchema $bad } | Should -Throw -ErrorId (& $Fq 'InvalidResponseSchema') -ExpectedMessage "*'format' at due*"
        { Ticket 'B1' 'whole' | Invoke-CalStudioPrompt -ResponseSchema '{"oneOf":[]}' } | Should -Throw -ErrorId (& $Fq 'InvalidResponseSchema') -ExpectedMessage "*'oneOf'*"
        Requests $emu | Should -Be $before
    }
}

Describe 'Columns that collide' {
    BeforeAll { $script:emu = Start-JsonEmulator }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'keeps an answer property named like a user column as Answer_Name, with one warning per batch' {
        $rows = 1..3 | ForEach-Object { [pscustomobject]@{ TicketId = "C$_"; Priority = 'user-set'; Prompt = "Classify [json:whole] collide $_" } }
        $out = @($rows | Invoke-CalStudioPrompt -ResponseFormat Json -KeyProperty TicketId -WarningVariable warned -WarningAction SilentlyContinue)
        $out.Priority | Should -Be 'user-set', 'user-set', 'user-set'
        $out | ForEach-Object { $_.Answer_Priority | Should -BeOfType [long] }
        $out[0].Category | Should -Not -BeNullOrEmpty
        @($warned | Where-Object { "$_" -match 'Answer_Priority' }).Count | Should -Be 1
    }
}

Describe 'The journal keeps the raw answer' {
    BeforeAll { $script:emu = Start-JsonEmulator }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'resumes without sending anything, and a changed schema resends only the rows it rejects' {
        $journal = Join-Path $TestDrive 'j.jsonl'
        $forms = 'whole', 'fenced', 'prose', 'invalid', 'offschema', 'stubborn'
        $rows = 1..24 | ForEach-Object { Ticket "J$_" $forms[$_ % 6] "journal ticket $_" }
        $first = @($rows | Invoke-CalStudioPrompt -ResponseSchema $schemaPath -KeyProperty TicketId -JournalPath $journal -ErrorVariable failed -ErrorAction SilentlyContinue)
        $first.Count | Should -Be 20
        $failed.Count | Should -Be 4
        $sent = Requests $emu
        $sent | Should -Be (24 + 12)   # invalid, offschema and stubborn rows were each asked again once

        $again = @($rows | Invoke-CalStudioPrompt -ResponseSchema $schemaPath -KeyProperty TicketId -JournalPath $journal -ErrorVariable failedAgain -ErrorAction SilentlyContinue)
        Requests $emu | Should -Be $sent
        $again.Count | Should -Be 20
        $again | ForEach-Object { $_.FromJournal | Should -BeTrue }
        ($again | ForEach-Object { "$($_.TicketId)=$($_.Category)/$($_.Priority)/$($_.AnswerFrom)" }) |
            Should -Be ($first | ForEach-Object { "$($_.TicketId)=$($_.Category)/$($_.Priority)/$($_.AnswerFrom)" })
        $failedAgain.Count | Should -Be 4   # given up on under this schema: reported again, not paid again

        # A stricter schema: only the rows whose journaled answer it rejects are sent again, the rest stay free.
        $strict = (Get-Content $schemaPath -Raw) -replace '"maximum": 5', '"maximum": 3'
        $rejected = @($first | Where-Object Priority -GT 3).TicketId + @($failed.TargetObject.TicketId)
        Reset-CalStudioEmulator $emu
        $third = @($rows | Invoke-CalStudioPrompt -ResponseSchema $strict -KeyProperty TicketId -JournalPath $journal -ErrorAction SilentlyContinue)
        $stats = Get-CalStudioEmulatorStats $emu
        $resent = @($stats.prompts.PSObject.Properties.Name | Where-Object { -not $_.StartsWith($reaskOpening) })
        ($resent | ForEach-Object { ($rows | Where-Object Prompt -EQ $_).TicketId } | Sort-Object) | Should -Be ($rejected | Sort-Object)
        @($third | Where-Object { -not $_.FromJournal }).Count | Should -Be 0 -Because 'the emulator keeps its priorities, so each resent row fails again'
        @($third | Where-Object FromJournal).Count | Should -Be (24 - $rejected.Count)
    }
}
