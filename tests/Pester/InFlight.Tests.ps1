# Each Describe uses its own key (New-CalStudioTestKey), so the shared budget state of one test never paces another.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    function Get-StatusCount($stats, [string] $status) {
        $p = $stats.statusCounts.PSObject.Properties[$status]
        if ($p) { [long]$p.Value } else { 0L }
    }
}

# Counts only: how many requests the emulator saw at once, how many answers of each kind, what the module reports.
Describe 'Requests in flight with default settings' {
    BeforeAll {
        $script:k = New-CalStudioTestKey
        $script:emu = Start-CalStudioEmulator -Key $k -ArgumentList '--latency-ms', '1000'
        $script:secret = ConvertTo-SecureString $k -AsPlainText -Force
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }
    BeforeEach { Reset-CalStudioEmulator $emu }

    It 'keeps the fixed 4 while nothing is known about the rate' {
        Connect-CalStudio -ApiKey $secret -BaseUri $emu.Uri -AppName inflight
        $out = 1..12 | ForEach-Object { "unknown $_" } | Invoke-CalStudioPrompt
        @($out | Where-Object Success).Count | Should -Be 12
        (Get-CalStudioEmulatorStats $emu -NoPrompts).maxInFlight | Should -Be 4
        $c = Get-CalStudioConnection
        $c.InFlightLevel | Should -Be 4
        $c.InFlightReason | Should -BeLike '4 in flight: the allowed rate is not known*'
    }

    It 'follows rate x latency when the rate is known, and says so in the summary' {
        # 20/s of a 1 s app need about 20 in flight; the old default kept 4.
        Connect-CalStudio -ApiKey $secret -BaseUri $emu.Uri -AppName inflight -RequestsPerMinute 1200
        $all = 1..60 | ForEach-Object { "known $_" } | Invoke-CalStudioPrompt -Verbose 4>&1
        $out = @($all | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        $verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })[-1].Message
        @($out | Where-Object Success).Count | Should -Be 60
        $stats = Get-CalStudioEmulatorStats $emu -NoPrompts
        $stats.maxInFlight | Should -BeGreaterOrEqual 12
        $stats.requests | Should -Be 60
        $c = Get-CalStudioConnection
        $c.InFlightLevel | Should -BeGreaterOrEqual 20
        $c.InFlightReason | Should -Match '^\d+ in flight: 20\.0/s × \d+\.\d s latency$'
        $verbose | Should -Match 'CalStudio batch: 60 succeeded.*; \d+ in flight: 20\.0/s × \d+\.\d s latency[;.]'
    }

    It 'keeps a given -ThrottleLimit as the ceiling' {
        Connect-CalStudio -ApiKey $secret -BaseUri $emu.Uri -AppName inflight -RequestsPerMinute 1200 -ThrottleLimit 6
        $out = 1..24 | ForEach-Object { "ceiling $_" } | Invoke-CalStudioPrompt
        @($out | Where-Object Success).Count | Should -Be 24
        (Get-CalStudioEmulatorStats $emu -NoPrompts).maxInFlight | Should -Be 6
        (Get-CalStudioConnection).InFlightReason | Should -BeLike '6 in flight: -ThrottleLimit (20.0/s × * latency would need more)'
    }
}

Describe 'An app overloaded past 8 in flight' {
    BeforeAll {
        $script:k = New-CalStudioTestKey
        # A proxy in front of the app answers 503 at once past 8 in flight; rate and latency alone would ask for ~14.
        $script:emu = Start-CalStudioEmulator -Key $k -ArgumentList '--latency-ms', '500', '--overload', '8'
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'answers every prompt once, with few overload answers, settling near 8' {
        Connect-CalStudio -ApiKey (ConvertTo-SecureString $k -AsPlainText -Force) -BaseUri $emu.Uri -AppName overload -RequestsPerMinute 1200 -RetryDelaySec 0.1
        $prompts = 1..120 | ForEach-Object { "overload $_" }
        $out = $prompts | Invoke-CalStudioPrompt
        @($out | Where-Object Success).Count | Should -Be 120
        $out.Prompt | Should -Be $prompts
        $stats = Get-CalStudioEmulatorStats $emu
        @($stats.prompts.PSObject.Properties | Where-Object { $_.Value.succeeded -ne 1 }).Count | Should -Be 0
        $overloaded = Get-StatusCount $stats '503'
        $overloaded | Should -BeGreaterThan 0      # the overload was met, so the cut below is the gate's doing
        $overloaded | Should -BeLessOrEqual 60     # at most half the prompts
        $stats.requests | Should -Be (120 + $overloaded)
        $c = Get-CalStudioConnection
        $c.InFlightLevel | Should -BeLessOrEqual 13 # the target is 15 (20/s × 0.5 s × 1.2 + 2): the cut holds it below
        # These pages come past 8 on the wire, where answers seldom pass: the app's overload, which the gate cuts for,
        # not a rate limiter's refusal, so nothing is learned and the key is not paused.
        $c.InFlightReason | Should -Match 'HTTP 503 at \d+ in flight'
        $c.Pacing | Should -Be '-RequestsPerMinute 1200'
    }
}
