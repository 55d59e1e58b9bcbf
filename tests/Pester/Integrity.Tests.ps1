# What a batch promises an admin, tried as an attacker and a newcomer would: no row answered with another row's
# answer, nothing paid for lost, a stop that is gentle, and binding that never sends garbage.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:Fq = { param($id) "$id,CalStudio.Commands.InvokeCalStudioPromptCommand" }
    function script:Connect-Emulator($emu, [hashtable] $More = @{}) {
        Connect-CalStudio -ApiKey (ConvertTo-SecureString $emu.Key -AsPlainText -Force) -BaseUri $emu.Uri -AppName integrity -RetryDelaySec 0.05 @More
    }
    function script:Get-Requests($emu) { (Get-CalStudioEmulatorStats $emu -NoPrompts).requests }
    function script:Get-PromptStats($emu, [string] $prompt) { (Get-CalStudioEmulatorStats $emu).prompts.$prompt }
}

Describe 'A 403 is one row''s failure' {
    BeforeAll { $script:emu = Start-CalStudioEmulator -ArgumentList '--latency-ms', '0-5' }
    AfterAll { $script:emu | Stop-CalStudioEmulator }
    BeforeEach { Reset-CalStudioEmulator $emu; Connect-Emulator $emu }

    It 'fails that row as ApiForbidden, journals it as failed, goes on, and sends it again on a rerun' {
        $journal = Join-Path $TestDrive 'forbidden.jsonl'
        $rows = 1..6 | ForEach-Object { [pscustomobject]@{ Id = $_; Prompt = if ($_ -eq 3) { 'emu:status:403 not this app' } else { "allowed $_" } } }
        $out = $rows | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id -ErrorVariable errs -ErrorAction SilentlyContinue
        $out.Id | Should -Be 1, 2, 4, 5, 6
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be (& $Fq 'ApiForbidden')
        $errs[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
        $errs[0].TargetObject.Id | Should -Be 3
        (Get-CalStudioResponse -JournalPath $journal -Failed).ErrorId | Should -Be 'ApiForbidden'

        $again = $rows | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id -ErrorAction SilentlyContinue
        @($again | Where-Object FromJournal).Count | Should -Be 5
        (Get-PromptStats $emu 'emu:status:403 not this app').arrived | Should -Be 2
    }

    It 'takes the key as rejected when every request is refused with 403, after at most 20 requests' {
        $rows = 1..60 | ForEach-Object { "emu:status:403 refused $_" }
        $caught = $null
        try { $null = $rows | Invoke-CalStudioPrompt -ThrottleLimit 16 -ErrorAction SilentlyContinue } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be (& $Fq 'ApiKeyRejected')
        $caught.Exception.Message | Should -Match '403'
        Get-Requests $emu | Should -BeLessOrEqual 20
        Get-Requests $emu | Should -BeGreaterOrEqual 1
    }
}

Describe 'Every stop is gentle' {
    BeforeAll { $script:emu = Start-CalStudioEmulator }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'journals the answers already on their way when a 401 stops the batch' {
        Connect-Emulator $emu
        $journal = Join-Path $TestDrive 'gentle.jsonl'
        # Rows 1-3 take 100 ms; row 4 meets the 401 at once. Whichever of rows 1-3 reached the server before the stop
        # was on the wire, and gets the grace (800 ms): its answer must be journaled and written, none other sent.
        $rows = @(1..3 | ForEach-Object { [pscustomobject]@{ Id = $_; Prompt = "emu:sleep:100 slow $_" } }) +
                [pscustomobject]@{ Id = 4; Prompt = 'emu:status:401 key gone' } +
                @(5..20 | ForEach-Object { [pscustomobject]@{ Id = $_; Prompt = "never $_" } })
        $caught = $null
        $out = @()
        try { $rows | Invoke-CalStudioPrompt -ThrottleLimit 4 -JournalPath $journal -KeyProperty Id | ForEach-Object { $out += $_ } } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be (& $Fq 'ApiKeyRejected')
        # Whatever the server answered is journaled, so a resume never pays for it twice; whatever it did not see is
        # not journaled. Which rows got on the wire before the 401 depends on scheduling, not on the module.
        $stats = Get-CalStudioEmulatorStats $emu
        $answered = @($rows | Where-Object { $stats.prompts.($_.Prompt).succeeded -eq 1 } | ForEach-Object { "key:$($_.Id)" })
        $answered.Count | Should -BeGreaterOrEqual 1 -Because 'row 1 starts before row 4'
        @(Get-CalStudioResponse -JournalPath $journal | Where-Object Success).RowKey | Sort-Object | Should -Be ($answered | Sort-Object)
        # Nothing new starts after the 401: at most the 4 slots' worth besides it ever reach the server.
        $stats.requests | Should -BeLessOrEqual 8
        # Output is the in-order run of answered rows before the first row that was not answered.
        $expected = @(foreach ($r in $rows) { if ($answered -notcontains "key:$($r.Id)") { break }; $r.Id })
        @($out.Id) | Should -Be $expected
    }
}

Describe 'Row keys' {
    BeforeAll { $script:emu = Start-CalStudioEmulator -ArgumentList '--latency-ms', '0-5' }
    AfterAll { $script:emu | Stop-CalStudioEmulator }
    BeforeEach { Reset-CalStudioEmulator $emu; Connect-Emulator $emu }

    It 'refuses a duplicate or blank key, so a rerun never gives one row another row''s answer' {
        $journal = Join-Path $TestDrive 'keys.jsonl'
        $rows = [pscustomobject]@{ Id = '1'; Prompt = 'Capital of France' },
                [pscustomobject]@{ Id = '1'; Prompt = 'Colour of the sky' },
                [pscustomobject]@{ Id = ''; Prompt = 'Blank key' },
                [pscustomobject]@{ Id = '2'; Prompt = 'Second' }
        foreach ($run in 1, 2) {
            $out = $rows | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id -ErrorVariable errs -ErrorAction SilentlyContinue
            $out.Prompt | Should -Be 'Capital of France', 'Second' -Because "run $run"
            foreach ($o in $out) { $o.Message | Should -Match ([regex]::Escape($o.Prompt)) -Because 'the emulator echoes the prompt it answered' }
            @($errs | ForEach-Object { $_.FullyQualifiedErrorId }) | Should -Be (& $Fq 'DuplicateRowKey'), (& $Fq 'EmptyRowKey')
            $errs[0].TargetObject.Prompt | Should -Be 'Colour of the sky'
        }
        $stats = Get-CalStudioEmulatorStats $emu
        $stats.prompts.'Colour of the sky' | Should -BeNullOrEmpty
        $stats.prompts.'Blank key' | Should -BeNullOrEmpty
        $stats.requests | Should -Be 2
    }

    It 'stops with KeyPropertyNotFound before sending anything when the first row has no such column' {
        $caught = $null
        try { $null = [pscustomobject]@{ Id = 1; Prompt = 'typo' } | Invoke-CalStudioPrompt -KeyProperty Idd } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be (& $Fq 'KeyPropertyNotFound')
        $caught.Exception.Message | Should -Match "'Idd'"
        $caught.Exception.Message | Should -Match 'Id, Prompt'
        Get-Requests $emu | Should -Be 0
    }

    It 'journals rows refused before sending as failures, and tries them again once fixed' {
        $journal = Join-Path $TestDrive 'refused.jsonl'
        $bad = [pscustomobject]@{ Id = 'a'; Prompt = '   ' }, [pscustomobject]@{ Id = 'b'; Prompt = 'with file'; FileUrl = 'C:\not\a\url.pdf' }
        $null = $bad | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id -ErrorAction SilentlyContinue
        $failed = Get-CalStudioResponse -JournalPath $journal -Failed
        $failed.ErrorId | Should -Be 'InvalidPrompt', 'InvalidFileUrl'
        Get-Requests $emu | Should -Be 0
        $fixed = [pscustomobject]@{ Id = 'a'; Prompt = 'now a prompt' }, [pscustomobject]@{ Id = 'b'; Prompt = 'with file'; FileUrl = 'https://files.example/a.pdf' }
        $out = $fixed | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id
        @($out | Where-Object { $_.Success -and -not $_.FromJournal }).Count | Should -Be 2
        Get-Requests $emu | Should -Be 2
    }
}

Describe 'Binding' {
    BeforeAll { $script:emu = Start-CalStudioEmulator -ArgumentList '--latency-ms', '0-5' }
    AfterAll { $script:emu | Stop-CalStudioEmulator }
    BeforeEach { Reset-CalStudioEmulator $emu; Connect-Emulator $emu }

    It 'takes a string after an object row as that row''s prompt' {
        $out = [pscustomobject]@{ Prompt = 'first' }, 'second', 'third' | Invoke-CalStudioPrompt
        $out.Prompt | Should -Be 'first', 'second', 'third'
        $out.Success | Should -Be $true, $true, $true
    }

    It 'refuses a prompt that is not text as InvalidPrompt, sending nothing' {
        $rows = [pscustomobject]@{ Prompt = @{ a = 1 } }, [pscustomobject]@{ Prompt = @('x', 'y') }, [pscustomobject]@{ Prompt = [pscustomobject]@{ q = 1 } }
        $out = $rows | Invoke-CalStudioPrompt -ErrorVariable errs -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        @($errs | ForEach-Object { $_.FullyQualifiedErrorId } | Select-Object -Unique) | Should -Be (& $Fq 'InvalidPrompt')
        $errs[0].Exception.Message | Should -Match 'Hashtable, not text'
        Get-Requests $emu | Should -Be 0
        # Numbers are text enough.
        (Invoke-CalStudioPrompt -Prompt 42).Success | Should -BeTrue
    }

    It 'refuses a prompt with a lone surrogate, which cannot arrive intact' {
        $null = Invoke-CalStudioPrompt -Prompt ("broken " + [char]0xD800) -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be (& $Fq 'InvalidPrompt')
        Get-Requests $emu | Should -Be 0
    }

    It 'keeps an input column named like an answer property, renamed, with one warning' {
        $rows = 1..3 | ForEach-Object { [pscustomobject]@{ Id = $_; Prompt = "collide $_"; Message = "mine $_"; Success = 'maybe' } }
        $out = $rows | Invoke-CalStudioPrompt -WarningVariable warns -WarningAction SilentlyContinue
        $out.Input_Message | Should -Be 'mine 1', 'mine 2', 'mine 3'
        $out.Input_Success | Should -Be 'maybe', 'maybe', 'maybe'
        $out[0].Message | Should -Match 'collide 1'
        $out[0].Success | Should -BeTrue
        $warns.Count | Should -Be 1
        "$warns" | Should -Match 'Message, Success'
    }
}

Describe 'A running batch keeps its connection' {
    BeforeAll { $script:emu = Start-CalStudioEmulator -ArgumentList '--latency-ms', '20-40' }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'answers every row when Disconnect-CalStudio runs later in the same pipeline' {
        Connect-Emulator $emu
        $script:n = 0
        $out = 1..40 | ForEach-Object { "kept $_" } | Invoke-CalStudioPrompt -ThrottleLimit 4 -ErrorVariable errs -ErrorAction SilentlyContinue |
            ForEach-Object { if (++$script:n -eq 2) { Disconnect-CalStudio }; $_ }
        @($out | Where-Object Success).Count | Should -Be 40
        $errs.Count | Should -Be 0
        Get-CalStudioConnection -ErrorVariable noConnection | Should -BeNullOrEmpty -Because 'no connection: nothing, and no error'; $noConnection | Should -BeNullOrEmpty
    }

    It 'answers every row when Connect-CalStudio replaces the connection later in the same pipeline' {
        Connect-Emulator $emu
        $script:n = 0
        $out = 1..40 | ForEach-Object { "replaced $_" } | Invoke-CalStudioPrompt -ThrottleLimit 4 -ErrorAction SilentlyContinue |
            ForEach-Object { if (++$script:n -eq 2) { Connect-Emulator $emu @{ TimeoutSec = 5 } }; $_ }
        @($out | Where-Object Success).Count | Should -Be 40
        (Get-CalStudioConnection).TimeoutSec | Should -Be 5
    }
}

Describe 'The key never reaches the resume command' {
    BeforeAll { $script:emu = Start-CalStudioEmulator -Key 'cs_oneliner_secret_4242' -ArgumentList '--daily', '3' }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'builds the resume command from bound parameters, not from a one-liner that holds the key' {
        $journal = Join-Path $TestDrive 'oneliner.jsonl'
        $uri = $emu.Uri
        $caught = $null
        # One line on purpose: the old hint copied MyInvocation.Line, and with it the key typed for Connect-CalStudio.
        Connect-CalStudio -ApiKey (ConvertTo-SecureString 'cs_oneliner_secret_4242' -AsPlainText -Force) -BaseUri $uri -AppName x; try { 1..6 | ForEach-Object { "q $_" } | Invoke-CalStudioPrompt -JournalPath $journal } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be (& $Fq 'DailyQuotaExhausted')
        $caught.ErrorDetails.RecommendedAction | Should -Match ([regex]::Escape("Invoke-CalStudioPrompt -JournalPath '$journal'"))
        $caught.Exception.Message | Should -Not -Match 'cs_oneliner_secret'
        $caught.ErrorDetails.RecommendedAction | Should -Not -Match 'cs_oneliner_secret'
        $caught.ErrorDetails.Message | Should -Not -Match 'cs_oneliner_secret'
    }
}

Describe 'Error texts state each fact once' {
    It 'names a refused connection once, keeping the transport exception as the inner exception' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop() # a port with nobody listening
        Connect-CalStudio -ApiKey (ConvertTo-SecureString 'cs_nobody_home_1' -AsPlainText -Force) -BaseUri "http://127.0.0.1:$port" -AppName x -MaxRetries 0
        $null = Invoke-CalStudioPrompt -Prompt 'anyone?' -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be (& $Fq 'ApiConnectionFailed')
        $message = $errs[0].Exception.Message
        ([regex]::Matches($message, 'refused', 'IgnoreCase')).Count | Should -Be 1 -Because $message
        $errs[0].Exception.InnerException | Should -BeOfType [System.Net.Http.HttpRequestException]
    }

    It 'names the 401 once in the key-rejected stop' {
        $emu = Start-CalStudioEmulator
        try {
            Connect-CalStudio -ApiKey (ConvertTo-SecureString 'cs_not_the_key_9' -AsPlainText -Force) -BaseUri $emu.Uri -AppName x
            $caught = $null
            try { $null = Invoke-CalStudioPrompt -Prompt 'let me in' } catch { $caught = $_ }
            $caught.FullyQualifiedErrorId | Should -Be (& $Fq 'ApiKeyRejected')
            ([regex]::Matches($caught.Exception.Message, '401')).Count | Should -Be 1 -Because $caught.Exception.Message
        }
        finally { $emu | Stop-CalStudioEmulator }
    }
}
