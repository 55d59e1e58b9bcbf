# Benchmark scenario, dot-sourced by bench/Run-Benchmarks.ps1 (helpers: bench/BenchSupport.ps1).

<#
Default settings (no -ThrottleLimit) against the allowed rate: apps of 0.2, 2 and 10 s at a Free-like 1/s and a
ProPlus-like 10/s. Windows are scaled (20 s windows of 20 or 200 requests: two windows a run) so each case runs in under a minute; the
module is told the plan's rate with -RequestsPerMinute. Fraction of the rate = sending rate ((n - 1) / (wall - latency))
over the allowed rate. Then an app whose proxy answers 503 past 8 in flight, where rate x latency would ask for ~26.
#>
function Invoke-InFlightBenchmark {
    $name = 'inflight'
    $cases = @(
        @{ Plan = 'Free-like'; Rpm = 60; PerWindow = 20; LatencyMs = 200; Count = 40 }
        @{ Plan = 'Free-like'; Rpm = 60; PerWindow = 20; LatencyMs = 2000; Count = 40 }
        @{ Plan = 'Free-like'; Rpm = 60; PerWindow = 20; LatencyMs = 10000; Count = 40 }
        @{ Plan = 'ProPlus-like'; Rpm = 600; PerWindow = 200; LatencyMs = 200; Count = 400 }
        @{ Plan = 'ProPlus-like'; Rpm = 600; PerWindow = 200; LatencyMs = 2000; Count = 400 }
        @{ Plan = 'ProPlus-like'; Rpm = 600; PerWindow = 200; LatencyMs = 10000; Count = 400 }
    )
    foreach ($case in $cases) {
        $key = 'cs_bench_' + [guid]::NewGuid().ToString('n')
        $emu = Start-BenchEmulator '--rpm', "$($case.PerWindow)", '--window-ms', '20000', '--latency-ms', "$($case.LatencyMs)" -Key $key
        try {
            $rate = $case.Rpm / 60.0; $latency = $case.LatencyMs / 1000.0
            $ideal = ($case.Count - 1) / $rate + $latency
            $run = Invoke-BenchChild -TimeoutSec 150 -Environment @{ CALSTUDIO_STATE_DIR = (New-StateDir $name) } -Script (New-ModuleRunScript @{
                Uri = $emu.Uri.AbsoluteUri; Key = $key; Count = $case.Count; ThrottleLimit = 0; RequestsPerMinute = $case.Rpm; Prefix = 'inflight-' })
            $r = $run.Result
            $s = Get-CalStudioEmulatorStats $emu -NoPrompts
            $n429 = Get-StatusCount $s '429'
            $fraction = (($case.Count - 1) / ($r.Seconds - $latency)) / $rate
            # What the old fixed 4 in flight allowed, by Little's law.
            $fixed4 = [Math]::Min(1.0, 4 / $latency / $rate)
            Add-Row "$name $($case.Plan) $(F $rate '0')/s, $(F $latency '0.0') s app, $($case.Count) prompts" `
                "$(F $r.Seconds '0.0') s; $($r.Answered) answered; $n429 x 429; max $($s.maxInFlight) in flight" `
                "ideal $(F $ideal '0.0') s; fixed 4 in flight: $(F $fixed4 '0.00') of the rate" `
                "$(F $fraction '0.00') of the rate" '>= 0.90 of the rate, <= 2 x 429' ($fraction -ge 0.9 -and $n429 -le 2 -and $r.Answered -eq $case.Count)
            Add-Note "$name $($case.Plan) $(F $latency '0.0') s" ("{0}; errors {1} {2}; emulator status counts: {3}." -f $r.InFlight, $r.Errors, ($r.ErrorIds -join ' '), (Format-StatusCounts $s))
        }
        finally { $emu | Stop-CalStudioEmulator }
    }

    $count = 120
    $key = 'cs_bench_' + [guid]::NewGuid().ToString('n')
    $emu = Start-BenchEmulator '--overload', '8', '--latency-ms', '2000' -Key $key
    try {
        $run = Invoke-BenchChild -TimeoutSec 180 -Environment @{ CALSTUDIO_STATE_DIR = (New-StateDir $name) } -Script (New-ModuleRunScript @{
            Uri = $emu.Uri.AbsoluteUri; Key = $key; Count = $count; ThrottleLimit = 0; RequestsPerMinute = 600; Prefix = 'overload-'; CheckRows = $true })
        $r = $run.Result
        $s = Get-CalStudioEmulatorStats $emu -NoPrompts
        $n503 = Get-StatusCount $s '503'
        $ideal = $count / 8 * 2.0
        Add-Row "$name overload: 503 past 8 in flight, 10/s, 2 s app, $count prompts" `
            "$($r.Succeeded) of $count answered; $n503 x 503; $(F $r.Seconds '0.0') s" "ideal at 8 in flight $(F $ideal '0.0') s" `
            "$(F ($n503 / $count) '0.00') 503 per prompt" 'all answered, 503 <= half the prompts' ($r.Succeeded -eq $count -and $r.RowsNotExactlyOnce -eq 0 -and $n503 -le $count / 2)
        Add-Note "$name overload" ("{0}; errors {1} {2}; emulator requests {3}, status counts: {4}." -f $r.InFlight, $r.Errors, ($r.ErrorIds -join ' '), $s.requests, (Format-StatusCounts $s))
    }
    finally { $emu | Stop-CalStudioEmulator }
}
