# Whatever the server answers, each row ends as one clear per-row error (or a retry that recovers): never an
# unhandled exception, a hang past the timeout, or memory that grows with the answer.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:Fq = { param($id) "$id,CalStudio.Commands.InvokeCalStudioPromptCommand" }
    $script:k = "cs_test_hostile_$([guid]::NewGuid().ToString('N'))"
    $script:emu = Start-CalStudioEmulator -Key $k
    $script:key = ConvertTo-SecureString $k -AsPlainText -Force

    # A loopback server that answers every request with the same raw bytes, or with a chunked JSON body of
    # ChunkedBytes bytes and no Content-Length (so the client cannot refuse it up front from the declared size).
    if (-not ('CalStudioLoopbackServer' -as [type])) { Add-Type -Path (Join-Path $PSScriptRoot '../Support/LoopbackServers.cs') }

    function New-CannedServer([int] $Status = 200, [string] $Reason = 'OK', [string] $ContentType = 'application/json', [string] $Body = '') {
        $bytes = [System.Text.Encoding]::UTF8.GetByteCount($Body)
        $raw = "HTTP/1.1 $Status $Reason`r`nContent-Type: $ContentType`r`nContent-Length: $bytes`r`nConnection: close`r`n`r`n$Body"
        [CalStudioHostileTestServer]::new($raw, 0)
    }

    # One row between two good ones against -BaseUri; returns the outputs, the errors and the elapsed time.
    function Invoke-Sandwiched([uri] $BaseUri, [string] $Prompt, [int] $MaxRetries = 0, [int] $TimeoutSec = 10) {
        Connect-CalStudio -ApiKey $key -BaseUri $BaseUri -AppName hostile -MaxRetries $MaxRetries -RetryDelaySec 0.05 -TimeoutSec $TimeoutSec
        $rows = @(
            [pscustomobject]@{ Id = 1; Prompt = 'before' }
            [pscustomobject]@{ Id = 2; Prompt = $Prompt }
            [pscustomobject]@{ Id = 3; Prompt = 'after' }
        )
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $thrown = $null
        $out = try { $rows | Invoke-CalStudioPrompt -ErrorVariable errs -ErrorAction SilentlyContinue } catch { $thrown = $_ }
        [pscustomobject]@{ Out = @($out); Errors = @($errs); Thrown = $thrown; Elapsed = $watch.Elapsed }
    }
}
AfterAll {
    Disconnect-CalStudio
    $script:emu | Stop-CalStudioEmulator
}

Describe 'Hostile or broken answers from the emulator' {
    It '<Shape> ends as one <Id> for its row only' -ForEach @(
        @{ Shape = 'non-JSON'; P = 'emu:badjson x'; Id = 'ApiInvalidResponse' }
        @{ Shape = 'truncated JSON'; P = 'emu:truncated x'; Id = 'ApiInvalidResponse' }
        @{ Shape = 'wrong shape and types'; P = 'emu:wrongshape x'; Id = 'ApiInvalidResponse' }
        @{ Shape = 'a missing message'; P = 'emu:nomessage x'; Id = 'ApiInvalidResponse' }
        @{ Shape = 'success:false with a status'; P = 'emu:unsuccessful x'; Id = 'ApiUnsuccessful' }
        @{ Shape = 'success:false with status 500'; P = 'emu:unsuccessful500 x'; Id = 'ApiUnsuccessful' }
        @{ Shape = 'an HTML error page'; P = 'emu:html502 x'; Id = 'ApiServerError' }
        @{ Shape = 'an empty body'; P = 'emu:empty x'; Id = 'ApiInvalidResponse' }
        @{ Shape = 'an empty error body'; P = 'emu:emptyerr x'; Id = 'ApiServerError' }
        @{ Shape = 'a dropped connection'; P = 'emu:drop x'; Id = 'ApiConnectionFailed' }
        @{ Shape = 'a connection dropped mid-body'; P = 'emu:dropmid x'; Id = 'ApiConnectionFailed' }
        @{ Shape = 'a body over 16 MB'; P = 'emu:big:20 x'; Id = 'ApiResponseTooLarge' }
    ) {
        $r = Invoke-Sandwiched -BaseUri $emu.Uri -Prompt $P -MaxRetries 1
        $r.Thrown | Should -BeNullOrEmpty
        $r.Out.Id | Should -Be @(1, 3)
        $r.Errors.Count | Should -Be 1
        $r.Errors[0].FullyQualifiedErrorId | Should -Be (& $Fq $Id)
        $r.Errors[0].TargetObject.Id | Should -Be 2
        $r.Errors[0].Exception.Message | Should -Not -BeNullOrEmpty
        $r.Errors[0].Exception.GetType().Name | Should -Be 'CalStudioException' -Because 'a typed failure, not a leaked .NET exception'
    }

    It 'recovers by retrying a transient failure: <P>' -ForEach @(
        @{ P = 'emu:500x1 recovers' }
        @{ P = 'emu:html502x1 recovers' }
        @{ P = 'emu:dropx1 recovers' }
        @{ P = 'emu:dropmidx1 recovers' }
        @{ P = 'emu:emptyx1 recovers' }
    ) {
        $r = Invoke-Sandwiched -BaseUri $emu.Uri -Prompt $P -MaxRetries 2
        $r.Errors.Count | Should -Be 0
        $r.Out.Id | Should -Be @(1, 2, 3)
        $r.Out[1].Attempts | Should -Be 2
    }

    It 'gives up on an answer that never comes: ApiTimeout after the retries, within their time' {
        $retries = 2; $timeout = 1; $baseDelay = 0.05
        $r = Invoke-Sandwiched -BaseUri $emu.Uri -Prompt 'emu:hang forever' -MaxRetries $retries -TimeoutSec $timeout
        $r.Thrown | Should -BeNullOrEmpty
        $r.Errors.Count | Should -Be 1
        $r.Errors[0].FullyQualifiedErrorId | Should -Be (& $Fq 'ApiTimeout')
        $r.Out.Id | Should -Be @(1, 3)
        (Get-CalStudioResponse -Failed -Last 1).Attempts | Should -Be ($retries + 1)
        # Attempts x timeout, plus backoff (at most base x (2^retries - 1)), plus generous slack for process and CI noise.
        $bound = ($retries + 1) * $timeout + $baseDelay * ([math]::Pow(2, $retries) - 1) + 10
        $r.Elapsed.TotalSeconds | Should -BeLessThan $bound
        $r.Elapsed.TotalSeconds | Should -BeGreaterOrEqual (($retries + 1) * $timeout * 0.9) -Because 'each attempt waited for its timeout'
    }

    It 'refuses a 20 MB answer without reading it into memory' {
        Connect-CalStudio -ApiKey $key -BaseUri $emu.Uri -AppName hostile -MaxRetries 0
        $null = Invoke-CalStudioPrompt -Prompt 'emu:big:20 warm-up' -ErrorAction SilentlyContinue
        $null = Invoke-CalStudioPrompt -Prompt 'emu:big:0.1 warm-up'
        [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
        $self = Get-Process -Id $PID
        $before = $self.WorkingSet64
        $errs = @()
        foreach ($i in 1..3) {
            $null = Invoke-CalStudioPrompt -Prompt "emu:big:20 run $i" -ErrorVariable +errs -ErrorAction SilentlyContinue
        }
        $self.Refresh()
        $growth = $self.WorkingSet64 - $before
        $errs.Count | Should -Be 3
        $errs | ForEach-Object { $_.FullyQualifiedErrorId | Should -Be (& $Fq 'ApiResponseTooLarge') }
        $errs[0].Exception.Message | Should -Match '16 MB'
        $growth | Should -BeLessThan 20MB -Because "the working set grew by $([math]::Round($growth / 1MB, 1)) MB over three 20 MB answers"
    }
}

Describe 'Hostile answers the emulator cannot shape' {
    It '<Shape> ends as one <Id> for its row only' -ForEach @(
        @{ Shape = 'success:false without a status'; Status = 200; Body = '{"success":false,"message":"nope"}'; Id = 'ApiUnsuccessful' }
        @{ Shape = 'success:false and nothing else'; Status = 200; Body = '{"success":false}'; Id = 'ApiUnsuccessful' }
        @{ Shape = 'a JSON array'; Status = 200; Body = '[{"message":"x","success":true}]'; Id = 'ApiInvalidResponse' }
        @{ Shape = 'a JSON string'; Status = 200; Body = '"just a string"'; Id = 'ApiInvalidResponse' }
        @{ Shape = 'JSON nested 10,000 deep'; Status = 200; Body = ('[' * 10000) + (']' * 10000); Id = 'ApiInvalidResponse' }
        @{ Shape = 'a message that is an object'; Status = 200; Body = '{"message":{"a":1},"success":true}'; Id = 'ApiInvalidResponse' }
        @{ Shape = 'a NUL in a string and a cut-off literal'; Status = 200; Body = "{`"message`":`"a`0b`",`"success`":tru"; Id = 'ApiInvalidResponse' }
        @{ Shape = 'an HTML 500 page'; Status = 500; Body = '<html><body><h1>Oops</h1><script>alert(1)</script></body></html>'; Type = 'text/html'; Id = 'ApiServerError' }
        @{ Shape = 'an unexpected status 418'; Status = 418; Body = 'teapot'; Type = 'text/plain'; Id = 'ApiUnexpectedStatus' }
    ) {
        $type = if ($Type) { $Type } else { 'application/json' }
        $server = New-CannedServer -Status $Status -Reason 'Canned' -ContentType $type -Body $Body
        try {
            $r = Invoke-Sandwiched -BaseUri "http://127.0.0.1:$($server.Port)" -Prompt 'anything' -MaxRetries 0
            $r.Thrown | Should -BeNullOrEmpty
            # Rows 1 and 3 get the same canned answer: every row fails alike, each with its own error.
            $r.Out | Should -BeNullOrEmpty
            $r.Errors.Count | Should -Be 3
            $r.Errors | ForEach-Object { $_.FullyQualifiedErrorId | Should -Be (& $Fq $Id) }
            $r.Errors.TargetObject.Id | Should -Be @(1, 2, 3)
        }
        finally { $server.Dispose() }
    }

    It 'stops reading a chunked answer with no declared length at 16 MB (ApiResponseTooLarge), memory bounded' {
        $server = [CalStudioHostileTestServer]::new([NullString]::Value, 40MB)
        try {
            Connect-CalStudio -ApiKey $key -BaseUri "http://127.0.0.1:$($server.Port)" -AppName hostile -MaxRetries 0 -TimeoutSec 60
            [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
            $managedBefore = [GC]::GetTotalMemory($true)
            $null = Invoke-CalStudioPrompt -Prompt 'chunked' -ErrorVariable errs -ErrorAction SilentlyContinue
            $managedAfter = [GC]::GetTotalMemory($true)
            $errs.Count | Should -Be 1
            $errs[0].FullyQualifiedErrorId | Should -Be (& $Fq 'ApiResponseTooLarge')
            Start-Sleep -Milliseconds 200
            $server.BytesSent | Should -BeLessThan 30MB -Because 'the client hung up instead of draining 40 MB'
            ($managedAfter - $managedBefore) | Should -BeLessThan 8MB -Because 'the 16 MB buffer is released after the row'
        }
        finally { $server.Dispose() }
    }
}
