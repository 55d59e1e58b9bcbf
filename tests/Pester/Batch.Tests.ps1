BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:modulePath = (Resolve-Path (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1')).Path
}

Describe 'Concurrent batches' {
    BeforeAll {
        $script:emu = Start-CalStudioEmulator -ArgumentList '--latency-ms', '0-120', '--seed', '7'
        $script:key = ConvertTo-SecureString $emu.Key -AsPlainText -Force
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }
    BeforeEach {
        Connect-CalStudio -ApiKey $key -BaseUri $emu.Uri -AppName batch -RetryDelaySec 0.05
        Reset-CalStudioEmulator $emu
    }

    It 'keeps input order under random latencies' {
        $prompts = 1..200 | ForEach-Object { "order $_" }
        $out = $prompts | Invoke-CalStudioPrompt -ThrottleLimit 16
        $out.Prompt | Should -Be $prompts
    }

    It 'writes rows as soon as they and the rows before them are done, not at the end' {
        # Row 6 takes 3 s; rows 1-5 must reach the next command while it is still in flight.
        $prompts = @(1..5 | ForEach-Object { "early $_" }) + 'emu:sleep:3000 late' + @(7..8 | ForEach-Object { "after $_" })
        $seen = [System.Collections.Generic.List[object]]::new()
        $prompts | Invoke-CalStudioPrompt -ThrottleLimit 8 | ForEach-Object {
            if ($_.Prompt -eq 'early 1') { $seen.Add((Get-CalStudioEmulatorStats $emu -NoPrompts).inFlight) }
            $_
        } | Out-Null
        $seen[0] | Should -BeGreaterOrEqual 1
    }

    It 'lets a slow row hold back output, not the requests after it' {
        $prompts = @('emu:sleep:2000 slow first') + @(2..20 | ForEach-Object { "quick $_" })
        $arrivedWhenFirstCameOut = $null
        $out = $prompts | Invoke-CalStudioPrompt -ThrottleLimit 8 | ForEach-Object {
            if ($null -eq $arrivedWhenFirstCameOut) { $arrivedWhenFirstCameOut = (Get-CalStudioEmulatorStats $emu -NoPrompts).requests }
            $_
        }
        $arrivedWhenFirstCameOut | Should -Be 20
        $out.Prompt | Should -Be $prompts
    }

    It 'keeps at most -ThrottleLimit requests in flight, and reaches it' {
        $null = 1..96 | ForEach-Object { "inflight $_" } | Invoke-CalStudioPrompt -ThrottleLimit 12
        $stats = Get-CalStudioEmulatorStats $emu -NoPrompts
        $stats.maxInFlight | Should -Be 12
        $stats.requests | Should -Be 96
    }

    It 'retries transient failures and records the attempts' {
        $r = Invoke-CalStudioPrompt -Prompt 'emu:500x2 flaky'
        $r.Success | Should -BeTrue
        $r.Attempts | Should -Be 3
        (Get-CalStudioEmulatorStats $emu).prompts.'emu:500x2 flaky'.arrived | Should -Be 3
    }

    It 'honours Retry-After given as <Form>' -ForEach @(@{ Form = 'seconds'; P = 'emu:429:2x1 wait' }, @{ Form = 'an HTTP date'; P = 'emu:429date:2x1 wait' }) {
        $r = Invoke-CalStudioPrompt -Prompt $P
        $r.Success | Should -BeTrue
        $r.Attempts | Should -Be 2
        $r.Duration | Should -BeGreaterOrEqual 1.0  # an HTTP date has whole seconds: at least 1 s of the 2 remains
    }

    It 'does not retry permanent failures' -ForEach @(@{ P = 'emu:status:400 perm' }, @{ P = 'emu:status:404 perm' }, @{ P = 'emu:unsuccessful perm' }) {
        $null = Invoke-CalStudioPrompt -Prompt $P -MaxRetries 4 -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 1
        (Get-CalStudioEmulatorStats $emu).prompts.$P.arrived | Should -Be 1
        (Get-CalStudioResponse -Last 1).Attempts | Should -Be 1
    }

    It 'gives up after -MaxRetries with the last error' {
        $null = Invoke-CalStudioPrompt -Prompt 'emu:500 always' -MaxRetries 2 -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Match '^ApiServerError,'
        (Get-CalStudioEmulatorStats $emu).prompts.'emu:500 always'.arrived | Should -Be 3
    }

    It 'times out a request that never answers (-TimeoutSec) and retries it' {
        $r = Invoke-CalStudioPrompt -Prompt 'emu:hangx1 slow' -TimeoutSec 1
        $r.Success | Should -BeTrue
        $r.Attempts | Should -Be 2
    }

    It 'writes a summary on the verbose stream' {
        $v = 'a', 'b' | Invoke-CalStudioPrompt -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        ($v | Select-Object -Last 1).Message | Should -Match '2 succeeded .* 0 failed'
    }
}

Describe 'Cancellation' {
    BeforeAll {
        $script:emu = Start-CalStudioEmulator -ArgumentList '--latency-ms', '20000'
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'stops within 2 s on Ctrl+C, cancelling requests in flight, and writes nothing after the stop' {
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
            param($module, $uri, $key)
            Import-Module $module
            Connect-CalStudio -ApiKey (ConvertTo-SecureString $key -AsPlainText -Force) -BaseUri $uri -AppName c
            1..64 | ForEach-Object { "cancel $_" } | Invoke-CalStudioPrompt -ThrottleLimit 8
        }).AddArgument($modulePath).AddArgument($emu.Uri).AddArgument($emu.Key)
        $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $handle = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $output)
        $deadline = [datetime]::UtcNow.AddSeconds(20)
        while ((Get-CalStudioEmulatorStats $emu -NoPrompts).inFlight -lt 8 -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        (Get-CalStudioEmulatorStats $emu -NoPrompts).inFlight | Should -Be 8

        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $clock.Stop()
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 2
        $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        $countAtStop = $output.Count
        Start-Sleep -Milliseconds 500
        $output.Count | Should -Be $countAtStop
        $countAtStop | Should -Be 0
        # The sockets were closed: the emulator sees the requests abandoned.
        $deadline = [datetime]::UtcNow.AddSeconds(5)
        while ((Get-CalStudioEmulatorStats $emu -NoPrompts).inFlight -gt 0 -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        (Get-CalStudioEmulatorStats $emu -NoPrompts).inFlight | Should -Be 0
        (Get-CalStudioEmulatorStats $emu -NoPrompts).requests | Should -Be 8
        $ps.Dispose()
    }
}

Describe 'A fault mix' {
    BeforeAll {
        $script:emu = Start-CalStudioEmulator -ArgumentList '--seed', '42', '--fault-500', '0.10', '--fault-502-html', '0.05', '--fault-drop', '0.03', '--fault-hang', '0.02', '--latency-ms', '0-5'
        $script:key = ConvertTo-SecureString $emu.Key -AsPlainText -Force
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'ends every one of 2,000 rows as exactly one response or one error, none answered twice' {
        Connect-CalStudio -ApiKey $key -BaseUri $emu.Uri -AppName soak -TimeoutSec 2 -RetryDelaySec 0.05
        $rows = 1..2000 | ForEach-Object { [pscustomobject]@{ Id = $_; Prompt = "soak prompt $_" } }
        $out = $rows | Invoke-CalStudioPrompt -ThrottleLimit 16 -ErrorVariable errs -ErrorAction SilentlyContinue
        $ids = @($out.Id) + @($errs | ForEach-Object { $_.TargetObject.Id })
        $ids.Count | Should -Be 2000
        @($ids | Sort-Object -Unique).Count | Should -Be 2000
        $out.Id | Should -Be ($out.Id | Sort-Object)
        $stats = Get-CalStudioEmulatorStats $emu
        $twice = @($stats.prompts.PSObject.Properties | Where-Object { $_.Value.succeeded -gt 1 })
        $twice.Count | Should -Be 0
        # No in-flight bound here: a timed-out or dropped request is gone for the client before the server notices the
        # closed socket, so the server's count depends on machine load (it read 19 once). The exact bound is asserted
        # without faults above, where it is the client's own.
        @($out).Count | Should -BeGreaterOrEqual 1990   # 99.5% with the default 4 retries
        @($out | Where-Object Attempts -gt 1).Count | Should -BeGreaterThan 100
    }
}

Describe 'A fault mix cancelled half-way and resumed from its journal' {
    BeforeAll {
        # Latency keeps most requests in flight in the server's wait when Ctrl+C comes, as with real AI apps.
        $script:emu = Start-CalStudioEmulator -ArgumentList '--seed', '11', '--fault-500', '0.10', '--fault-502-html', '0.05', '--fault-drop', '0.03', '--fault-hang', '0.02', '--latency-ms', '100-300'
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'never pays twice for an answer the first run kept, and the rerun completes the rest' {
        $journal = Join-Path $TestDrive 'soak.jsonl'
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
            param($module, $uri, $key, $journal)
            Import-Module $module
            Connect-CalStudio -ApiKey (ConvertTo-SecureString $key -AsPlainText -Force) -BaseUri $uri -AppName soak -TimeoutSec 2 -RetryDelaySec 0.05
            1..600 | ForEach-Object { [pscustomobject]@{ Id = $_; Prompt = "resume soak $_" } } |
                Invoke-CalStudioPrompt -ThrottleLimit 16 -JournalPath $journal -KeyProperty Id -ErrorAction SilentlyContinue
        }).AddArgument($modulePath).AddArgument($emu.Uri).AddArgument($emu.Key).AddArgument($journal)
        $firstOut = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $null = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $firstOut)
        $deadline = [datetime]::UtcNow.AddSeconds(60)
        # Stop early: output can jump by a few hundred rows at once when a head row that timed out finally ends.
        while ($firstOut.Count -lt 100 -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        $ps.Stop()
        $ps.Dispose()
        $firstOut.Count | Should -BeGreaterOrEqual 100
        $firstOut.Count | Should -BeLessThan 600
        $kept = @(Get-CalStudioResponse -JournalPath $journal | Where-Object Success | ForEach-Object Prompt)
        $kept.Count | Should -BeGreaterOrEqual $firstOut.Count

        Connect-CalStudio -ApiKey (ConvertTo-SecureString $emu.Key -AsPlainText -Force) -BaseUri $emu.Uri -AppName soak -TimeoutSec 2 -RetryDelaySec 0.05
        $rows = 1..600 | ForEach-Object { [pscustomobject]@{ Id = $_; Prompt = "resume soak $_" } }
        $second = $rows | Invoke-CalStudioPrompt -ThrottleLimit 16 -JournalPath $journal -KeyProperty Id -ErrorVariable errs -ErrorAction SilentlyContinue

        (@($second.Id) + @($errs | ForEach-Object { $_.TargetObject.Id })).Count | Should -Be 600
        $second.Id | Should -Be ($second.Id | Sort-Object)
        @($second | Where-Object FromJournal).Count | Should -BeGreaterOrEqual $firstOut.Count
        $stats = Get-CalStudioEmulatorStats $emu
        $succeeded = @($stats.prompts.PSObject.Properties | Where-Object { $_.Value.succeeded -ge 1 })
        # Ctrl+C gives the requests on the wire a grace (800 ms), then abandons them: one the server answered as the grace
        # ran out (a hung request keeps it running; a loaded machine reads answers late) was never kept, so the rerun
        # asks again. That is what Ctrl+C costs, at most the 16 in flight. An answer the first run kept is never paid again.
        $twice = @($succeeded | Where-Object { $_.Value.succeeded -gt 1 } | ForEach-Object Name)
        @($twice | Where-Object { $_ -in $kept }) | Should -BeNullOrEmpty
        $twice.Count | Should -BeLessOrEqual 16
        $succeeded.Count | Should -Be @($second | Where-Object Success).Count
    }
}
