# What a batch reports: durations and times that serialise well, the request count with or without a plan, -WhatIf's
# split at the reset, -Debug and -Verbose naming rows by their key, and Invoke-RestMethod's parameter names.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    $script:stateDir = Join-Path $TestDrive 'state'
    $env:CALSTUDIO_STATE_DIR = $stateDir
    $script:key = "cs_test_$([guid]::NewGuid().ToString('N'))"
    $script:emu = Start-CalStudioEmulator -Key $key -ArgumentList '--latency-ms', '0-20'
    $script:secure = ConvertTo-SecureString $key -AsPlainText -Force
}
AfterAll {
    Disconnect-CalStudio
    $script:emu | Stop-CalStudioEmulator
    Remove-Item Env:CALSTUDIO_STATE_DIR -ErrorAction SilentlyContinue
}

Describe 'Reports' {
    BeforeEach { Reset-CalStudioEmulator $emu }

    It 'counts RequestsToday without a plan: every request, retries included' {
        Connect-CalStudio -BaseUri $emu.Uri -AppName reports -ApiKey $secure -RetryIntervalSec 0
        $before = (Get-CalStudioConnection).RequestsToday
        $null = 1..5 | ForEach-Object { "today $_" } | Invoke-CalStudioPrompt
        $null = 'emu:500x1 counted twice' | Invoke-CalStudioPrompt -ErrorAction SilentlyContinue
        $sent = (Get-CalStudioEmulatorStats $emu -NoPrompts).requests
        $sent | Should -Be 7
        (Get-CalStudioConnection).RequestsToday - $before | Should -Be $sent
    }

    It 'says with -WhatIf how many requests fit before the reset and how many wait for it, in local time' {
        Connect-CalStudio -BaseUri $emu.Uri -AppName reports -ApiKey $secure -RequestsPerDay 1000000
        $left = 1000000 - (Get-CalStudioConnection).RequestsToday
        Connect-CalStudio -BaseUri $emu.Uri -AppName reports -ApiKey $secure -RequestsPerDay (1000000 - $left + 30)
        $transcript = Join-Path $TestDrive 'whatif-split.txt'
        $null = Start-Transcript -Path $transcript
        $null = 1..50 | ForEach-Object { "fits $_" } | Invoke-CalStudioPrompt -WhatIf
        $null = Stop-Transcript
        $text = Get-Content $transcript -Raw
        $midnight = [DateTimeOffset]::new([DateTime]::UtcNow.Date.AddDays(1), [TimeSpan]::Zero).ToLocalTime().ToString('yyyy-MM-dd HH:mm:ss zzz', [cultureinfo]::InvariantCulture)
        $text | Should -Match ([regex]::Escape("30 fit in today's remaining 30, 20 wait for the reset at $midnight"))
        (Get-CalStudioEmulatorStats $emu -NoPrompts).requests | Should -Be 0
    }

    It 'serialises Duration as seconds: ConvertTo-Json shows a number, and the list view reads in seconds' {
        Connect-CalStudio -BaseUri $emu.Uri -AppName reports -ApiKey $secure
        $r = 'emu:sleep:300 timed' | Invoke-CalStudioPrompt
        $r.Duration | Should -BeOfType [double]
        $r.Duration | Should -BeGreaterOrEqual 0.3
        $json = $r | ConvertTo-Json | ConvertFrom-Json
        $json.Duration | Should -BeOfType [double]
        $json.Duration | Should -Be $r.Duration
        ($r | Format-List | Out-String) | Should -Match 'Duration\s+: \d+[.,]\d{3} s'
    }

    It 'writes CompletedAt to CSV in ISO 8601 round-trip under <Culture>, still a DateTimeOffset to compare' -ForEach @(@{ Culture = 'de-DE' }, @{ Culture = 'ja-JP' }) {
        Connect-CalStudio -BaseUri $emu.Uri -AppName reports -ApiKey $secure
        $saved = [System.Threading.Thread]::CurrentThread.CurrentCulture
        try {
            [System.Threading.Thread]::CurrentThread.CurrentCulture = $Culture
            $r = [pscustomobject]@{ Id = 'C1'; Prompt = "dated $Culture" } | Invoke-CalStudioPrompt
            $row = $r | ConvertTo-Csv -NoTypeInformation | ConvertFrom-Csv
        }
        finally { [System.Threading.Thread]::CurrentThread.CurrentCulture = $saved }
        $row.CompletedAt | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}[+-]\d\d:\d\d$'
        [DateTimeOffset]::ParseExact($row.CompletedAt, 'o', [cultureinfo]::InvariantCulture) | Should -Be $r.CompletedAt
        $r.CompletedAt -gt [DateTimeOffset]::Now.AddHours(-1) | Should -BeTrue
        $r.CompletedAt.Offset | Should -Be ([TimeZoneInfo]::Local.GetUtcOffset($r.CompletedAt))
        # Still formats and sets as a DateTimeOffset does.
        $r.CompletedAt.ToString('yyyy-MM-dd', [cultureinfo]::InvariantCulture) | Should -Be $r.CompletedAt.psobject.BaseObject.ToString('yyyy-MM-dd', [cultureinfo]::InvariantCulture)
        $r.CompletedAt = [DateTimeOffset]::new(2026, 12, 2, 8, 30, 0, [TimeSpan]::FromHours(1))
        ($r | ConvertTo-Csv -NoTypeInformation | ConvertFrom-Csv).CompletedAt | Should -Be '2026-12-02T08:30:00.0000000+01:00'
    }

    It 'says "nothing sent" for a run answered wholly from the journal' {
        Connect-CalStudio -BaseUri $emu.Uri -AppName reports -ApiKey $secure
        $journal = Join-Path $TestDrive 'nothing.jsonl'
        $rows = 1..3 | ForEach-Object { [pscustomobject]@{ Id = "N$_"; Prompt = "journaled $_" } }
        $null = $rows | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id
        $verbose = $rows | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $summary = @($verbose | Where-Object { "$_" -like 'CalStudio batch:*' })
        $summary.Count | Should -Be 1
        "$($summary[0])" | Should -Match '3 succeeded \(3 from the journal\).*s elapsed, nothing sent\.$'
    }
}

Describe 'Diagnostics' {
    BeforeEach { Reset-CalStudioEmulator $emu }

    It 'traces each attempt with -Debug (row key, attempt, status, latency, waits) and names rows by key in -Verbose retry lines' {
        Connect-CalStudio -BaseUri $emu.Uri -AppName reports -ApiKey $secure -RequestsPerMinute 600 -RetryIntervalSec 0
        $long = 'emu:500x1 ' + ('x' * 100) + 'TAIL'
        $rows = @([pscustomobject]@{ Id = 'T5'; Prompt = $long }, [pscustomobject]@{ Id = 'T6'; Prompt = 'plain' })
        $records = $rows | Invoke-CalStudioPrompt -KeyProperty Id -Debug -Verbose 4>&1 5>&1
        $debug = @($records | Where-Object { $_ -is [System.Management.Automation.DebugRecord] } | ForEach-Object { "$_" })
        $verbose = @($records | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object { "$_" })
        $debug.Count | Should -Be 3 -Because 'T5 twice (a 500, then an answer), T6 once'
        @($debug | Where-Object { $_ -match '^Row T5 \(row 1\) attempt 1 of \d+: HTTP 500 ApiServerError in \d+\.\d{3} s; waited \d+\.\d{3} s for an in-flight slot, \d+\.\d{3} s for the pacer' }).Count | Should -Be 1
        @($debug | Where-Object { $_ -match '^Row T5 \(row 1\) attempt 2 of \d+: HTTP 200 in ' }).Count | Should -Be 1
        @($debug | Where-Object { $_ -match '^Row T6 \(row 2\) attempt 1 of \d+: HTTP 200 in ' }).Count | Should -Be 1
        @($debug | Where-Object { $_ -match 'for the pacer \(pacing to 10\.00 requests/s\)' }).Count | Should -BeGreaterThan 0 -Because 'at 600 a minute the second request waits its turn, and the trace says why'
        $debug | Should -Not -Match 'TAIL' -Because 'the prompt is cut to 60 characters'
        $debug | Should -Not -Match $key
        @($verbose | Where-Object { $_ -match '^Row T5 \(row 1\): Retrying in ' }).Count | Should -Be 1
    }

    It 'traces nothing without -Debug' {
        Connect-CalStudio -BaseUri $emu.Uri -AppName reports -ApiKey $secure
        @('quiet' | Invoke-CalStudioPrompt 5>&1 | Where-Object { $_ -is [System.Management.Automation.DebugRecord] }).Count | Should -Be 0
    }
}

Describe 'Conventions' {
    It 'takes Invoke-RestMethod''s names: -MaximumRetryCount for -MaxRetries and -RetryIntervalSec for -RetryDelaySec' {
        (Get-Command Connect-CalStudio).Parameters['MaxRetries'].Aliases | Should -Contain 'MaximumRetryCount'
        (Get-Command Connect-CalStudio).Parameters['RetryDelaySec'].Aliases | Should -Contain 'RetryIntervalSec'
        (Get-Command Invoke-CalStudioPrompt).Parameters['MaxRetries'].Aliases | Should -Contain 'MaximumRetryCount'
        Connect-CalStudio -BaseUri $emu.Uri -AppName reports -ApiKey $secure -MaximumRetryCount 0
        (Get-CalStudioConnection).MaxRetries | Should -Be 0
        Reset-CalStudioEmulator $emu
        $null = 'emu:500 never retried' | Invoke-CalStudioPrompt -ErrorAction SilentlyContinue
        (Get-CalStudioEmulatorStats $emu -NoPrompts).requests | Should -Be 1
    }

    It 'writes nothing and no error from Get-CalStudioConnection without a connection' {
        Disconnect-CalStudio
        $out = Get-CalStudioConnection -ErrorVariable problems
        $out | Should -BeNullOrEmpty
        $problems | Should -BeNullOrEmpty
        (-not (Get-CalStudioConnection)) | Should -BeTrue
    }
}

Describe 'Times are shown in local time with the offset' {
    BeforeAll {
        $script:tzKey = "cs_test_$([guid]::NewGuid().ToString('N'))"
        # A rate window (so the answers carry X-RateLimit-Reset) and a daily quota of one request (so the second stops).
        $script:tzEmu = Start-CalStudioEmulator -Key $tzKey -ArgumentList '--rpm', '100', '--window-ms', '60000', '--daily', '1'
    }
    AfterAll { $script:tzEmu | Stop-CalStudioEmulator }

    It 'gives Get-CalStudioConnection''s times and the quota stop''s reset in the process''s zone (<Zone>, <Offset>)' -ForEach @(
        @{ Zone = 'Asia/Kolkata'; Offset = '+05:30' }, @{ Zone = 'America/Caracas'; Offset = '-04:00' }
    ) {
        Reset-CalStudioEmulator $tzEmu
        $module = (Resolve-Path (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1')).Path
        $script = @"
Import-Module '$module'
Connect-CalStudio -BaseUri '$($tzEmu.Uri.AbsoluteUri)' -AppName tz -ApiKey (ConvertTo-SecureString '$tzKey' -AsPlainText -Force)
`$null = 'tz first' | Invoke-CalStudioPrompt
`$c = Get-CalStudioConnection
'connected=' + `$c.ConnectedAt.ToString('zzz')
'reset=' + `$c.RateLimitReset.ToString('zzz')
try { `$null = 'tz second' | Invoke-CalStudioPrompt } catch { 'stop=' + `$_.Exception.Message }
"@
        $p = Start-PwshProcess -Script $script -Environment @{ TZ = $Zone; CALSTUDIO_STATE_DIR = (Join-Path $TestDrive "tz-$Zone") }
        $stderr = $p.StandardError.ReadToEndAsync()
        $out = $p.StandardOutput.ReadToEnd()
        $p.WaitForExit(120000) | Should -BeTrue
        $out | Should -Match "connected=$([regex]::Escape($Offset))" -Because $stderr.Result
        $out | Should -Match "reset=$([regex]::Escape($Offset))"
        $out | Should -Match "stop=The daily quota is spent: .* The quota resets at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d $([regex]::Escape($Offset))\."
    }
}
