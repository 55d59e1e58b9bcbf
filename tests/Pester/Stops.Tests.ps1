# Issue 20, cases 1, 2, 3 and 8: a stop keeps what is on the wire, a spent day is remembered across processes,
# an outage stops the batch, and a template's missing column is found once. Real emulator, real sockets, real processes.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:modulePath = (Resolve-Path (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1')).Path
    $script:Fq = { param($id) "$id,CalStudio.Commands.InvokeCalStudioPromptCommand" }
    function Connect-Test($emu, [hashtable] $more = @{}) { Connect-CalStudioEmulator $emu (@{ AppName = 'stops' } + $more) }
    # The journal's entries (the header line left out), as the file holds them.
    function Get-JournalEntries([string] $path) { @(Get-Content $path | Select-Object -Skip 1 | ForEach-Object { $_ | ConvertFrom-Json }) }
}

Describe 'A quota stop lets the requests on the wire finish' {
    BeforeAll {
        # Every answer takes 1.5 s, far longer than a grace: only a stop that waits for them keeps them.
        $script:emu = Start-CalStudioEmulator -Key (New-CalStudioTestKey) -ArgumentList '--latency-ms', '1500'
        $script:journal = Join-Path $TestDrive 'drain.jsonl'
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'journals and writes every one of the 40 requests -RequestsPerDay allowed, with 16 in flight at the stop' {
        Connect-Test $emu @{ RequestsPerDay = 40 }
        $rows = 1..80 | ForEach-Object { [pscustomobject]@{ Id = "D$_"; Prompt = "drain prompt $_" } }
        $written = [System.Collections.Generic.List[object]]::new()
        $caught = $null
        try { $rows | Invoke-CalStudioPrompt -ThrottleLimit 16 -JournalPath $journal -KeyProperty Id | ForEach-Object { $written.Add($_) } }
        catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be (& $Fq 'DailyQuotaExhausted')
        $caught.Exception.Message | Should -Match '40 rows done \(40 answered, 0 failed\), 40 rows not sent'
        $stats = Get-CalStudioEmulatorStats $emu -NoPrompts
        $stats.requests | Should -Be 40
        $stats.statusCounts.'200' | Should -Be 40 -Because 'no request was aborted on the wire'
        $entries = Get-JournalEntries $journal
        @($entries | Where-Object success).Count | Should -Be 40
        $entries.Count | Should -Be 40 -Because 'rows not sent are not journaled'
        Write-Host "drain: $($stats.requests) sent, $($entries.Count) journaled, $($written.Count) written"
        $written.Count | Should -Be 40
        @($written | Where-Object Success).Count | Should -Be 40
        $inOrder = @($written | Sort-Object { [int]$_.Id.Substring(1) })
        $written.Id | Should -Be $inOrder.Id -Because 'the answers come in input order'
    }
}

Describe 'A spent day is remembered by every process on the key' {
    BeforeAll { $script:emu = Start-CalStudioEmulator -Key (New-CalStudioTestKey) -ArgumentList '--daily', '6', '--latency-ms', '0-20' }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'stops a second process at once, sending nothing and naming the reset' {
        Connect-Test $emu
        $caught = $null
        try { $null = 1..20 | ForEach-Object { "first run $_" } | Invoke-CalStudioPrompt -ThrottleLimit 4 } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be (& $Fq 'DailyQuotaExhausted')
        $until = (Get-CalStudioConnection).DailyQuotaSpentUntil
        $until | Should -Not -BeNullOrEmpty
        $until | Should -BeGreaterThan ([DateTimeOffset]::UtcNow)
        $sentByFirst = Get-CalStudioEmulatorRequestCount $emu

        # Two batches in a new process: one unpaced (no turn reads the state) and one with a plan (every turn does).
        $script = @"
Import-Module '$modulePath'
foreach (`$plan in @{}, @{ RequestsPerMinute = 600 }) {
    Connect-CalStudio -BaseUri '$($emu.Uri)' -AppName stops @plan
    try { `$null = 1..20 | ForEach-Object { "second run `$_" } | Invoke-CalStudioPrompt -ThrottleLimit 16; 'completed' }
    catch { "stopped=`$(`$_.FullyQualifiedErrorId) message=`$(`$_.Exception.Message)" }
}
"@
        $child = Start-PwshProcess -Script $script -Environment @{ CALSTUDIO_API_KEY = $emu.Key }
        $output = $child.StandardOutput.ReadToEnd()
        $child.WaitForExit()
        $stopped = @($output -split "`n" | Where-Object { $_ -match '^stopped=' })
        $stopped.Count | Should -Be 2 -Because $output
        foreach ($line in $stopped) {
            $line | Should -Match '^stopped=DailyQuotaExhausted,'
            $line | Should -Match '0 rows done .* 20 rows not sent'
            $line | Should -Match 'The quota resets at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d'
            $line | Should -Match 'nothing was sent'
        }
        Write-Host "spent day: the first run sent $sentByFirst, the second process $((Get-CalStudioEmulatorRequestCount $emu) - $sentByFirst)"
        (Get-CalStudioEmulatorRequestCount $emu) | Should -Be $sentByFirst -Because 'the second process sent no request'
    }
}

Describe 'A spent day ends when its reset passes' {
    BeforeAll {
        # Emulated days of 8 s: the refusal's Retry-After says when the next one starts. 20 rows against 3 a day stop
        # at a cap even if a loaded machine lets the first day end during the run.
        $script:emu = Start-CalStudioEmulator -Key (New-CalStudioTestKey) -ArgumentList '--daily', '3', '--day-ms', '8000'
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'sends again once the reset has passed' {
        Connect-Test $emu
        { 1..20 | ForEach-Object { "day one $_" } | Invoke-CalStudioPrompt -ThrottleLimit 1 } | Should -Throw -ErrorId (& $Fq 'DailyQuotaExhausted')
        $until = (Get-CalStudioConnection).DailyQuotaSpentUntil
        $until | Should -Not -BeNullOrEmpty
        while ([DateTimeOffset]::UtcNow -le $until) { Start-Sleep -Milliseconds 100 }
        $out = @(Invoke-CalStudioPrompt -Prompt 'a new day')
        $out[0].Success | Should -BeTrue
        (Get-CalStudioConnection).DailyQuotaSpentUntil | Should -BeNullOrEmpty
    }
}

Describe 'An outage stops the batch' {
    It 'stops 300 rows against a port that refuses connections with one ApiUnreachable' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop() # nobody listens there
        Connect-CalStudio -ApiKey (ConvertTo-SecureString (New-CalStudioTestKey) -AsPlainText -Force) -BaseUri "http://127.0.0.1:$port" -AppName stops -MaxRetries 1 -RetryDelaySec 0.05
        $journal = Join-Path $TestDrive 'refused.jsonl'
        $rows = 1..300 | ForEach-Object { [pscustomobject]@{ Id = "O$_"; Prompt = "outage prompt $_" } }
        $caught = $null
        try { $null = $rows | Invoke-CalStudioPrompt -ThrottleLimit 16 -JournalPath $journal -KeyProperty Id -ErrorVariable rowErrors -ErrorAction SilentlyContinue }
        catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be (& $Fq 'ApiUnreachable')
        $caught.CategoryInfo.Category | Should -Be 'ConnectionError'
        $caught.Exception.Message | Should -Match '\d+ rows in a row failed .*ApiConnectionFailed'
        $caught.Exception.Message | Should -Match ([regex]::Escape("To resume, run: <the same input> | Invoke-CalStudioPrompt -JournalPath '$journal' -KeyProperty 'Id'"))
        $failed = @($rowErrors | Where-Object { $_.FullyQualifiedErrorId -eq (& $Fq 'ApiConnectionFailed') })
        $failed.Count | Should -BeGreaterOrEqual 8
        $failed.Count | Should -BeLessOrEqual (8 + 16) -Because 'only rows already on their last attempt may still fail after the stop'
        $entries = Get-JournalEntries $journal
        Write-Host "refused port: $($failed.Count) row errors, $($entries.Count) journal entries, 1 ApiUnreachable"
        $entries.Count | Should -Be $failed.Count -Because 'only the rows that were tried are journaled'
        @($entries | Where-Object success).Count | Should -Be 0
        $caught.Exception.Message | Should -Match "$($failed.Count) rows done \(0 answered, $($failed.Count) failed\), $(300 - $failed.Count) rows not sent"
        $failedKeys = @($failed | ForEach-Object { "key:$($_.TargetObject.Id)" })
        foreach ($e in $entries) { $failedKeys | Should -Contain $e.key }
    }

    It 'stops a batch against an API that answers only 5xx the same way' {
        $emu = Start-CalStudioEmulator -Key (New-CalStudioTestKey) -ArgumentList '--fault-500', '1'
        try {
            Connect-Test $emu @{ MaxRetries = 1; RetryDelaySec = 0.05 }
            $journal = Join-Path $TestDrive 'fivexx.jsonl'
            $rows = 1..300 | ForEach-Object { [pscustomobject]@{ Id = "F$_"; Prompt = "server error prompt $_" } }
            $caught = $null
            try { $null = $rows | Invoke-CalStudioPrompt -ThrottleLimit 16 -JournalPath $journal -KeyProperty Id -ErrorVariable rowErrors -ErrorAction SilentlyContinue }
            catch { $caught = $_ }
            $caught.FullyQualifiedErrorId | Should -Be (& $Fq 'ApiUnreachable')
            $caught.Exception.Message | Should -Match 'ApiServerError'
            $failed = @($rowErrors | Where-Object { $_.FullyQualifiedErrorId -eq (& $Fq 'ApiServerError') })
            $failed.Count | Should -BeGreaterOrEqual 8
            $failed.Count | Should -BeLessOrEqual (8 + 16)
            (Get-JournalEntries $journal).Count | Should -Be $failed.Count
            $caught.Exception.Message | Should -Match "$($failed.Count) rows done \(0 answered, $($failed.Count) failed\), $(300 - $failed.Count) rows not sent"
            Write-Host "5xx outage: $(Get-CalStudioEmulatorRequestCount $emu) requests, $($failed.Count) row errors, $((Get-JournalEntries $journal).Count) journal entries" 
        }
        finally { $emu | Stop-CalStudioEmulator }
    }
}

Describe 'A template is checked once' {
    BeforeAll {
        $script:emu = Start-CalStudioEmulator -Key (New-CalStudioTestKey)
        Connect-Test $emu
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'stops before sending anything when the first row lacks a template column' {
        $rows = 1..10 | ForEach-Object { [pscustomobject]@{ Id = "T$_"; Subject = "subject $_"; Body = "body $_" } }
        $caught = $null
        try { $null = $rows | Invoke-CalStudioPrompt -PromptTemplate 'Summarise: {Subjet}' -ErrorVariable rowErrors -ErrorAction SilentlyContinue } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be (& $Fq 'TemplateColumnNotFound')
        $caught.Exception.Message | Should -Match "no 'Subjet' column"
        $caught.Exception.Message | Should -Match 'Its columns: Id, Subject, Body\.'
        $caught.Exception.Message | Should -Match ([regex]::Escape('{{ and }}'))
        @($rowErrors | Where-Object { $_.FullyQualifiedErrorId -like 'InvalidPrompt*' }).Count | Should -Be 0
        (Get-CalStudioEmulatorRequestCount $emu) | Should -Be 0
    }

    It 'keeps a column missing from a later row only as that row''s InvalidPrompt' {
        $rows = @(
            [pscustomobject]@{ Id = 'L1'; Subject = 'first' }
            [pscustomobject]@{ Id = 'L2'; Title = 'no subject here' }
            [pscustomobject]@{ Id = 'L3'; Subject = 'third' }
        )
        $out = @($rows | Invoke-CalStudioPrompt -PromptTemplate 'Summarise: {Subject}' -ErrorVariable rowErrors -ErrorAction SilentlyContinue)
        $out.Id | Should -Be 'L1', 'L3'
        @($out | Where-Object Success).Count | Should -Be 2
        $rowErrors.Count | Should -Be 1
        $rowErrors[0].FullyQualifiedErrorId | Should -Be (& $Fq 'InvalidPrompt')
        $rowErrors[0].Exception.Message | Should -Match "Row 2: .*'Subject'"
    }
}
