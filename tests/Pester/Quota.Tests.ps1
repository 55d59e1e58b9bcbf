# Each Describe's emulator has its own key (New-CalStudioTestKey), so the shared budget state of one test never paces another.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:modulePath = (Resolve-Path (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1')).Path
    $script:Fq = { param($id) "$id,CalStudio.Commands.InvokeCalStudioPromptCommand" }
}

Describe 'Pacing from the rate-limit headers alone' {
    BeforeAll { $script:emu = Start-CalStudioEmulator -Key (New-CalStudioTestKey) -ArgumentList '--rpm', '10', '--window-ms', '2000' }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'runs 4 windows of work with at most one 429 and no plan given' {
        Connect-CalStudioEmulator $emu @{ AppName = 'pace'; RetryDelaySec = 0.1 }
        $out = 1..40 | ForEach-Object { "paced $_" } | Invoke-CalStudioPrompt -ThrottleLimit 8
        @($out | Where-Object Success).Count | Should -Be 40
        $stats = Get-CalStudioEmulatorStats $emu -NoPrompts
        $tooMany = if ($stats.statusCounts.PSObject.Properties['429']) { $stats.statusCounts.'429' } else { 0 }
        $tooMany | Should -BeLessOrEqual 1
        $c = Get-CalStudioConnection
        $c.RateLimit | Should -Be 10
        $c.RateLimitRemaining | Should -BeLessOrEqual 10
        # Counting starts once pacing is active (the first answers carried the headers): all but the first ThrottleLimit.
        $c.RequestsToday | Should -BeGreaterOrEqual 32
    }
}

Describe 'One budget for two processes using the same key' {
    BeforeAll { $script:emu = Start-CalStudioEmulator -Key (New-CalStudioTestKey) -ArgumentList '--rpm', '10', '--window-ms', '2000' }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'keeps two processes started at once under the limit together' {
        # Each process alone may send 270/min (9 per 2 s window); two unshared would send 18 per window and meet about
        # 8 × 429 in each. Shared, they stay under it together; a request delayed by a loaded machine can still land in
        # the next window's count, so one or two 429s (retried) are tolerated, not the unshared storm.
        $script = @"
Import-Module '$modulePath'
Connect-CalStudio -BaseUri '$($emu.Uri)' -AppName shared -RequestsPerMinute 270 -MaxRetries 3 -RetryDelaySec 0.1
`$out = 1..18 | ForEach-Object { "proc `$PID prompt `$_" } | Invoke-CalStudioPrompt -ThrottleLimit 4 -ErrorAction Continue
"ok=`$(@(`$out | Where-Object Success).Count)"
"@
        $env = @{ CALSTUDIO_API_KEY = $emu.Key }
        $procs = 1..2 | ForEach-Object { Start-PwshProcess -Script $script -Environment $env }
        $outputs = $procs | ForEach-Object { $_.StandardOutput.ReadToEnd(); $_.WaitForExit() }
        ($outputs -join "`n") | Should -Match 'ok=18[\s\S]*ok=18'
        $stats = Get-CalStudioEmulatorStats $emu -NoPrompts
        $tooMany = if ($stats.statusCounts.PSObject.Properties['429']) { $stats.statusCounts.'429' } else { 0 }
        $tooMany | Should -BeLessOrEqual 2
        $stats.requests | Should -Be (36 + $tooMany)
    }
}

Describe 'The daily cap and resuming from the journal' {
    BeforeAll {
        # Emulated days of 30 s, so the spent day's reset comes within the test.
        $script:emu = Start-CalStudioEmulator -Key (New-CalStudioTestKey) -ArgumentList '--daily', '30', '--day-ms', '30000', '--latency-ms', '0-20'
        $script:journal = Join-Path $TestDrive 'run.jsonl'
        $script:rows = 1..50 | ForEach-Object { [pscustomobject]@{ Id = "R$_"; Prompt = "daily prompt $_" } }
        Connect-CalStudioEmulator $emu @{ AppName = 'daily'; RetryDelaySec = 0.05 }
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'stops with one terminating error that counts the rows and gives the resume command' {
        $caught = $null
        $script:first = @()
        try { $rows | Invoke-CalStudioPrompt -ThrottleLimit 4 -JournalPath $journal -KeyProperty Id | ForEach-Object { $script:first += $_ } }
        catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be (& $Fq 'DailyQuotaExhausted')
        $caught.CategoryInfo.Category | Should -Be 'LimitsExceeded'
        $caught.Exception.Message | Should -Match '30 rows done'
        $caught.Exception.Message | Should -Match '20 rows not sent'
        $caught.Exception.Message | Should -Match 'resets'
        # Rebuilt from the bound parameters, quoted so it can be pasted back; never the raw line.
        $caught.Exception.Message | Should -Match ([regex]::Escape("| Invoke-CalStudioPrompt -JournalPath '$journal' -KeyProperty 'Id' -ThrottleLimit 4"))
        $caught.ErrorDetails.RecommendedAction | Should -Match ([regex]::Escape("-JournalPath '$journal'"))
        $first.Count | Should -Be 30
        (Get-CalStudioEmulatorStats $emu -NoPrompts).statusCounts.'429' | Should -BeLessOrEqual 4
    }

    It 'says with -WhatIf how much the journal already answered' {
        $transcript = Join-Path $TestDrive 'whatif.txt'
        $null = Start-Transcript -Path $transcript
        $rows | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id -WhatIf
        $null = Stop-Transcript
        (Get-Content $transcript -Raw) | Should -Match 'Send 20 of 50 prompts to CalStudio \(30 already answered in the journal\)'
    }

    It 'remembers the spent day: a rerun before the reset sends nothing' {
        $sent = (Get-CalStudioEmulatorStats $emu -NoPrompts).requests
        { $rows | Invoke-CalStudioPrompt -ThrottleLimit 4 -JournalPath $journal -KeyProperty Id } | Should -Throw -ErrorId (& $Fq 'DailyQuotaExhausted')
        (Get-CalStudioEmulatorStats $emu -NoPrompts).requests | Should -Be $sent
    }

    It 'resumes after the reset, sending exactly the rest, with a complete output in input order' {
        $until = (Get-CalStudioConnection).DailyQuotaSpentUntil
        while ($until -and [DateTimeOffset]::UtcNow -le $until) { Start-Sleep -Milliseconds 200 }
        $second = $rows | Invoke-CalStudioPrompt -ThrottleLimit 4 -JournalPath $journal -KeyProperty Id
        $second.Id | Should -Be $rows.Id
        @($second | Where-Object FromJournal).Count | Should -Be 30
        @($second | Where-Object Success).Count | Should -Be 50
        $stats = Get-CalStudioEmulatorStats $emu
        foreach ($r in $rows) { $stats.prompts.($r.Prompt).succeeded | Should -Be 1 -Because $r.Prompt }
    }

    It 'reads the journal back with Get-CalStudioResponse' {
        $all = Get-CalStudioResponse -JournalPath $journal
        @($all | Where-Object Success).Count | Should -Be 50
        @(Get-CalStudioResponse -JournalPath $journal -Last 5).Count | Should -Be 5
        @(Get-CalStudioResponse -JournalPath $journal -Since (Get-Date).AddMinutes(-10) -AppName daily).Count | Should -Be 50
        @(Get-CalStudioResponse -JournalPath $journal -Since (Get-Date).AddMinutes(10)).Count | Should -Be 0
        @(Get-CalStudioResponse -JournalPath $journal -Failed).Count | Should -Be 0
        (Get-Content $journal -Raw) | Should -Not -Match $emu.Key
    }

    It 'skips a torn last line with a warning' {
        Add-Content -Path $journal -Value '{"key":"key:R1","success":tr' -NoNewline
        $third = $rows | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id -WarningVariable warns -WarningAction SilentlyContinue
        @($third | Where-Object FromJournal).Count | Should -Be 50
        "$warns" | Should -Match 'incomplete or damaged'
        $null = Get-CalStudioResponse -JournalPath $journal -WarningVariable warns2 -WarningAction SilentlyContinue
        "$warns2" | Should -Match 'incomplete or damaged'
    }

    It 'refuses a journal written with another -KeyProperty' {
        { $rows | Invoke-CalStudioPrompt -JournalPath $journal } | Should -Throw -ErrorId (& $Fq 'JournalKeyMismatch')
        { $rows | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Prompt } | Should -Throw -ErrorId (& $Fq 'JournalKeyMismatch')
    }
}

Describe 'The local daily count' {
    BeforeAll { $script:emu = Start-CalStudioEmulator -Key (New-CalStudioTestKey) }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'stops at -RequestsPerDay without sending the rest' {
        Connect-CalStudioEmulator $emu @{ AppName = 'local'; RequestsPerDay = 5 }
        { 1..8 | ForEach-Object { "local $_" } | Invoke-CalStudioPrompt -ThrottleLimit 1 } | Should -Throw -ErrorId (& $Fq 'DailyQuotaExhausted')
        (Get-CalStudioEmulatorStats $emu -NoPrompts).requests | Should -Be 5
        (Get-CalStudioConnection).RequestsToday | Should -Be 5
    }

    It 'takes -Plan names' {
        $c = Connect-CalStudioEmulator $emu @{ Plan = 'Lite'; PassThru = $true }
        $c.RequestsPerMinute | Should -Be 120
        $c.RequestsPerDay | Should -Be 5000
    }
}
