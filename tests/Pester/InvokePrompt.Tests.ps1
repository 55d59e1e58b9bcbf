BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:emu = Start-CalStudioEmulator
    $script:key = ConvertTo-SecureString $emu.Key -AsPlainText -Force
    $script:Fq = { param($id) "$id,CalStudio.Commands.InvokeCalStudioPromptCommand" }
    function LastRequestBody { (Get-CalStudioEmulatorRequests $emu -Last 1)[0].body | ConvertFrom-Json -AsHashtable }
}
AfterAll {
    Disconnect-CalStudio
    $script:emu | Stop-CalStudioEmulator
}

Describe 'Invoke-CalStudioPrompt' {
    BeforeEach { Connect-CalStudio -ApiKey $key -BaseUri $emu.Uri -AppName 'default-app' -MaxRetries 0 }

    Context 'the request' {
        It 'sends exactly the documented body, without fileUrl when none is given' {
            $r = Invoke-CalStudioPrompt -Prompt 'Hello'
            $body = LastRequestBody
            @($body.Keys | Sort-Object) | Should -Be @('apiKey', 'appName', 'prompt')
            $body.prompt | Should -Be 'Hello'
            $body.appName | Should -Be 'default-app'
            $body.apiKey | Should -Be $emu.Key
            $req = (Get-CalStudioEmulatorRequests $emu -Last 1)[0]
            $req.contentType | Should -Match 'application/json'
            $req.contentType | Should -Match 'utf-8'
            $req.userAgent | Should -Match '^CalStudio\.PowerShell/\d+\.\d+\.\d+'
            $r.Message | Should -Be 'default-app answers: Hello'
        }

        It 'sends fileUrl and a per-call AppName when given' {
            $r = Invoke-CalStudioPrompt -Prompt 'Read this' -AppName 'reader' -FileUrl 'https://files.example/a.pdf'
            $body = LastRequestBody
            $body.fileUrl | Should -Be 'https://files.example/a.pdf'
            $body.appName | Should -Be 'reader'
            $r.FileUrl | Should -Be 'https://files.example/a.pdf'
            $r.Message | Should -Be 'reader answers: Read this [file: https://files.example/a.pdf]'
        }

        It 'round-trips <Name> intact' -ForEach @(
            @{ Name = 'unicode and emoji'; P = 'Grüße, 日本語, שלום, 👋🏽 and 🧪' }
            @{ Name = 'newlines and tabs'; P = "line one`nline two`r`n`tindented" }
            @{ Name = 'quotes and backslashes'; P = 'He said "hi" \ and ''bye'' \n literally' }
        ) {
            $r = Invoke-CalStudioPrompt -Prompt $P
            (LastRequestBody).prompt | Should -BeExactly $P
            $r.Message | Should -BeExactly "default-app answers: $P"
        }
    }

    Context 'the output' {
        It 'emits CalStudio.Response objects with the documented properties' {
            $r = Invoke-CalStudioPrompt -Prompt 'props'
            $r.PSObject.TypeNames[0] | Should -Be 'CalStudio.Response'
            $r.Success | Should -BeTrue
            $r.StatusCode | Should -Be 200
            $r.Attempts | Should -Be 1
            $r.Duration | Should -BeOfType [double]
            $r.CompletedAt | Should -BeOfType [datetimeoffset]
            $r.AppName | Should -Be 'default-app'
            ($r | Out-String) | Should -Match 'props'
        }

        It 'binds strings from the pipeline by value' {
            $r = 'one', 'two', 'three' | Invoke-CalStudioPrompt
            $r.Prompt | Should -Be @('one', 'two', 'three')
            $r.Message | Should -Be @('default-app answers: one', 'default-app answers: two', 'default-app answers: three')
        }

        It 'binds CSV rows by property name, aliases included, and falls back on empty cells' {
            $rows = @'
Id,Question,App,Url
1,first,,
2,second,other-app,
3,third,,https://files.example/x.png
'@ | ConvertFrom-Csv
            $r = $rows | Invoke-CalStudioPrompt
            $r.Prompt | Should -Be @('first', 'second', 'third')
            $r.AppName | Should -Be @('default-app', 'other-app', 'default-app')
            $r[0].FileUrl | Should -BeNullOrEmpty
            $r[2].FileUrl | Should -Be 'https://files.example/x.png'
            $r.Id | Should -Be @('1', '2', '3')
        }

        It 'keeps the user''s columns through Export-Csv, in input order' {
            $in = Join-Path $TestDrive 'q.csv'
            $out = Join-Path $TestDrive 'a.csv'
            1..20 | ForEach-Object { [pscustomobject]@{ Id = "T$_"; Owner = "user$_"; Prompt = "question $_" } } | Export-Csv $in -NoTypeInformation
            Import-Csv $in | Invoke-CalStudioPrompt -ThrottleLimit 8 | Export-Csv $out -NoTypeInformation
            $answers = Import-Csv $out
            $answers.Id | Should -Be (1..20 | ForEach-Object { "T$_" })
            $answers.Owner | Should -Be (1..20 | ForEach-Object { "user$_" })
            $answers[4].Message | Should -Be 'default-app answers: question 5'
            (Get-Content $out -First 1) | Should -Match '^"Id","Owner","CompletedAt","Prompt"'
        }
    }

    Context 'failures of one row' {
        It 'reports <Shape> as <Id> with the row attached, and the batch goes on' -ForEach @(
            @{ Shape = 'an error envelope (400)'; P = 'emu:status:400 x'; Id = 'ApiBadRequest'; Cat = 'InvalidArgument' }
            @{ Shape = 'an unknown app (404)'; P = 'emu:status:404 x'; Id = 'ApiNotFound'; Cat = 'ObjectNotFound' }
            @{ Shape = 'success false'; P = 'emu:unsuccessful x'; Id = 'ApiUnsuccessful'; Cat = 'InvalidOperation' }
            @{ Shape = 'an HTML 502 page'; P = 'emu:html502 x'; Id = 'ApiServerError'; Cat = 'ResourceUnavailable' }
            @{ Shape = 'a 500 envelope'; P = 'emu:500 x'; Id = 'ApiServerError'; Cat = 'ResourceUnavailable' }
            @{ Shape = 'an empty body'; P = 'emu:empty x'; Id = 'ApiInvalidResponse'; Cat = 'InvalidResult' }
            @{ Shape = 'non-JSON'; P = 'emu:badjson x'; Id = 'ApiInvalidResponse'; Cat = 'InvalidResult' }
            @{ Shape = 'JSON of the wrong shape'; P = 'emu:wrongshape x'; Id = 'ApiInvalidResponse'; Cat = 'InvalidResult' }
            @{ Shape = 'a dropped connection'; P = 'emu:drop x'; Id = 'ApiConnectionFailed'; Cat = 'ConnectionError' }
            @{ Shape = 'a connection dropped mid-body'; P = 'emu:dropmid x'; Id = 'ApiConnectionFailed'; Cat = 'ConnectionError' }
        ) {
            $rows = @(
                [pscustomobject]@{ Id = 1; Prompt = 'before' }
                [pscustomobject]@{ Id = 2; Prompt = $P }
                [pscustomobject]@{ Id = 3; Prompt = 'after' }
            )
            $out = $rows | Invoke-CalStudioPrompt -ErrorVariable errs -ErrorAction SilentlyContinue
            $out.Id | Should -Be @(1, 3)
            $errs.Count | Should -Be 1
            $errs[0].FullyQualifiedErrorId | Should -Be (& $Fq $Id)
            $errs[0].CategoryInfo.Category | Should -Be $Cat
            $errs[0].TargetObject.Id | Should -Be 2
            $errs[0].ErrorDetails.Message | Should -Match 'Row 2'
        }

        It 'puts the API''s code and request id in ErrorDetails' {
            $null = Invoke-CalStudioPrompt -Prompt 'emu:status:400 details' -ErrorVariable errs -ErrorAction SilentlyContinue
            $errs[0].ErrorDetails.Message | Should -Match 'emulated_400'
            $errs[0].ErrorDetails.Message | Should -Match 'request id req_\d+'
            $errs[0].Exception.RequestId | Should -Match '^req_\d+'
            $errs[0].Exception.StatusCode | Should -Be 400
        }

        It 'refuses bad input before sending: <Why>' -ForEach @(
            @{ Why = 'empty prompt'; Row = [pscustomobject]@{ Prompt = '' }; Id = 'InvalidPrompt' }
            @{ Why = 'white space'; Row = [pscustomobject]@{ Prompt = "  `t " }; Id = 'InvalidPrompt' }
            @{ Why = 'no prompt column'; Row = [pscustomobject]@{ Name = 'x' }; Id = 'InvalidPrompt' }
            @{ Why = 'a local path'; Row = [pscustomobject]@{ Prompt = 'p'; FileUrl = 'C:\temp\a.pdf' }; Id = 'InvalidFileUrl' }
            @{ Why = 'file://'; Row = [pscustomobject]@{ Prompt = 'p'; FileUrl = 'file:///etc/hosts' }; Id = 'InvalidFileUrl' }
            @{ Why = 'javascript:'; Row = [pscustomobject]@{ Prompt = 'p'; FileUrl = 'javascript:alert(1)' }; Id = 'InvalidFileUrl' }
            @{ Why = 'a control character in AppName'; Row = [pscustomobject]@{ Prompt = 'p'; AppName = "a`0b" }; Id = 'InvalidAppName' }
        ) {
            $before = (Get-CalStudioEmulatorStats $emu -NoPrompts).requests
            $out = $Row, [pscustomobject]@{ Prompt = 'fine' } | Invoke-CalStudioPrompt -ErrorVariable errs -ErrorAction SilentlyContinue
            $errs.Count | Should -Be 1
            $errs[0].FullyQualifiedErrorId | Should -Be (& $Fq $Id)
            $errs[0].TargetObject | Should -Be $Row
            @($out).Count | Should -Be 1
            (Get-CalStudioEmulatorStats $emu -NoPrompts).requests | Should -Be ($before + 1)
        }

        It 'refuses $null from the pipeline as InvalidPrompt' {
            $null | Invoke-CalStudioPrompt -ErrorVariable errs -ErrorAction SilentlyContinue
            $errs[0].FullyQualifiedErrorId | Should -Be (& $Fq 'InvalidPrompt')
        }
    }

    Context 'a rejected key' {
        It 'stops the batch with one terminating error on 401' {
            Connect-CalStudio -ApiKey (ConvertTo-SecureString 'cs_revoked_key' -AsPlainText -Force) -BaseUri $emu.Uri -AppName a
            Reset-CalStudioEmulator $emu
            $rows = 1..50 | ForEach-Object { "prompt $_" }
            $caught = $null
            $out = try { $rows | Invoke-CalStudioPrompt -ThrottleLimit 2 -ErrorVariable errs } catch { $caught = $_ }
            $caught | Should -Not -BeNullOrEmpty
            $caught.FullyQualifiedErrorId | Should -Be (& $Fq 'ApiKeyRejected')
            $caught.CategoryInfo.Category | Should -Be 'AuthenticationError'
            $caught.Exception.Message | Should -Match 'rejected the key'
            # -ErrorVariable holds only the terminating error itself (as its exception): no per-row errors before it.
            $records = @($errs | ForEach-Object { if ($_ -is [System.Management.Automation.ErrorRecord]) { $_ } else { $_.ErrorRecord } })
            @($records | Where-Object FullyQualifiedErrorId -ne $caught.FullyQualifiedErrorId).Count | Should -Be 0
            $out | Should -BeNullOrEmpty
            # Only the requests already in flight when the first 401 came back: at most -ThrottleLimit.
            (Get-CalStudioEmulatorStats $emu -NoPrompts).requests | Should -BeLessOrEqual 2
        }
    }

    Context '-WhatIf' {
        It 'sends nothing and reports once' {
            $before = (Get-CalStudioEmulatorStats $emu -NoPrompts).requests
            $transcript = Join-Path $TestDrive 'whatif.txt'
            $null = Start-Transcript -Path $transcript
            $out = 1..5 | ForEach-Object { "p$_" } | Invoke-CalStudioPrompt -WhatIf
            $null = Stop-Transcript
            $out | Should -BeNullOrEmpty
            (Get-CalStudioEmulatorStats $emu -NoPrompts).requests | Should -Be $before
            $lines = @(Get-Content $transcript | Where-Object { $_ -match 'What if' })
            $lines.Count | Should -Be 1
            $lines[0] | Should -Match 'Send 5 of 5 prompts'
        }
    }
}

Describe 'Get-CalStudioResponse' {
    BeforeAll {
        Connect-CalStudio -ApiKey $key -BaseUri $emu.Uri -AppName 'history-app' -MaxRetries 0 -HistorySize 5
        $null = 'h1', 'emu:status:400 h2', 'h3' | Invoke-CalStudioPrompt -ErrorAction SilentlyContinue
        $null = Invoke-CalStudioPrompt -Prompt 'h4' -AppName 'other'
    }

    It 'returns the session''s responses, failures included, oldest first' {
        $h = Get-CalStudioResponse
        $h.Prompt | Should -Be @('h1', 'emu:status:400 h2', 'h3', 'h4')
        $h[1].Success | Should -BeFalse
        $h[1].ErrorId | Should -Be 'ApiBadRequest'
    }

    It 'filters with -Failed, -AppName and -Last' {
        (Get-CalStudioResponse -Failed).Prompt | Should -Be 'emu:status:400 h2'
        (Get-CalStudioResponse -AppName other).Prompt | Should -Be 'h4'
        (Get-CalStudioResponse -Last 2).Prompt | Should -Be @('h3', 'h4')
    }

    It 'keeps only -HistorySize entries' {
        $null = 'h5', 'h6', 'h7' | Invoke-CalStudioPrompt
        (Get-CalStudioResponse).Prompt | Should -Be @('h3', 'h4', 'h5', 'h6', 'h7')
    }
}
