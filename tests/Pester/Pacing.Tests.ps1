# One real-socket run per kind of rate window the emulator keeps (--window-kind, --reset-format): every prompt answered
# once, with few 429s. Wall times belong in the benchmarks (build.ps1 -Bench -BenchFilter scheme-*), not here.
# The issue's bound (at most two 429s) is asserted exactly by the simulator (PacerSchemeTests, a virtual clock) and
# measured by the bench. Over real sockets a loaded machine can delay a window's first burst past its boundary, so this
# suite allows four: unpaced, the same run meets dozens.
BeforeAll {
    $script:MostTooMany = 4
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force

    function Invoke-SchemeRun([string] $Kind, [string] $ResetFormat, [string[]] $ConnectArguments = @()) {
        # A fresh key per run: the shared budget state of one run never paces another.
        $key = "cs_test_$([guid]::NewGuid().ToString('N'))"
        $emu = Start-CalStudioEmulator -Key $key -ArgumentList '--rpm', '10', '--window-ms', '2000', '--window-kind', $Kind, '--reset-format', $ResetFormat, '--latency-ms', '10-30'
        try {
            $connect = @{ ApiKey = (ConvertTo-SecureString $key -AsPlainText -Force); BaseUri = $emu.Uri; AppName = 'pace'; RetryDelaySec = 0.1 }
            if ($ConnectArguments) { $connect.RequestsPerMinute = [int] $ConnectArguments[0] }
            Connect-CalStudio @connect
            $out = @(1..25 | ForEach-Object { "scheme $Kind $ResetFormat $_" } | Invoke-CalStudioPrompt -ThrottleLimit 8)
            $stats = Get-CalStudioEmulatorStats $emu
            [pscustomobject]@{
                Answered   = @($out | Where-Object Success).Count
                Distinct   = @($out | Where-Object Success | ForEach-Object Prompt | Sort-Object -Unique).Count
                TooMany    = if ($stats.statusCounts.PSObject.Properties['429']) { [int] $stats.statusCounts.'429' } else { 0 }
                Requests   = [int] $stats.requests
                Succeeded  = @($stats.prompts.PSObject.Properties | Where-Object { $_.Value.succeeded -eq 1 }).Count
                Connection = Get-CalStudioConnection
            }
        }
        finally { $emu | Stop-CalStudioEmulator }
    }
}

Describe 'Pacing from the headers of each kind of rate window' {
    It 'answers every prompt once with at most two 429s: <Kind> windows, Reset as <Format>' -ForEach @(
        @{ Kind = 'fixed'; Format = 'epoch' }
        @{ Kind = 'sliding'; Format = 'delta' }
        @{ Kind = 'bucket'; Format = 'epoch' }
    ) {
        $r = Invoke-SchemeRun $Kind $Format
        $r.Answered | Should -Be 25
        $r.Distinct | Should -Be 25
        $r.Succeeded | Should -Be 25
        $r.TooMany | Should -BeLessOrEqual $MostTooMany
        $r.Requests | Should -Be (25 + $r.TooMany)
        $r.Connection.RateLimit | Should -Be 10
    }
}

Describe 'Pacing without a Reset header' {
    It 'answers every prompt once, learning the window from one probe''s Retry-After, with at most two 429s: <Kind> windows' -ForEach @(
        @{ Kind = 'fixed' }
        @{ Kind = 'bucket' }
    ) {
        $r = Invoke-SchemeRun $Kind 'none'
        $r.Answered | Should -Be 25
        $r.Distinct | Should -Be 25
        $r.Succeeded | Should -Be 25
        $r.TooMany | Should -BeLessOrEqual $MostTooMany
        $r.Requests | Should -Be (25 + $r.TooMany)
    }
}

Describe 'Pacing at a configured rate equal to the server''s' {
    It 'answers every prompt once with at most two 429s on a sliding window' {
        $r = Invoke-SchemeRun 'sliding' 'epoch' -ConnectArguments 300
        $r.Answered | Should -Be 25
        $r.Succeeded | Should -Be 25
        $r.TooMany | Should -BeLessOrEqual $MostTooMany
        $r.Requests | Should -Be (25 + $r.TooMany)
    }
}
