# Benchmark scenario, dot-sourced by bench/Run-Benchmarks.ps1 (helpers: bench/BenchSupport.ps1).

<#
Rate-window schemes (issue 10): 40 prompts at a limit of 10 per 3 s, ThrottleLimit 8, against each --window-kind.
Headers alone (for each --reset-format), ideal 9 s: bursts of 10 at 0, 3, 6 and 9 s. With -RequestsPerMinute 200
(the server's rate), ideal 11.7 s: 39 gaps of 0.3 s. Latency 20-40 ms; wall times are from the first prompt sent
to the last answer, so the last answer's latency counts against the module.
#>
$script:SchemeCount = 40
$script:SchemeHeadersIdeal = 9.0
$script:SchemeRateIdeal = 11.7

function Invoke-SchemeRun([string] $Kind, [string] $ResetFormat, [int] $RequestsPerMinute = 0) {
    $key = 'cs_bench_' + [guid]::NewGuid().ToString('n')
    $emu = Start-BenchEmulator '--rpm', '10', '--window-ms', '3000', '--window-kind', $Kind, '--reset-format', $ResetFormat, '--latency-ms', '20-40' -Key $key
    try {
        $run = Invoke-BenchChild -TimeoutSec 120 -Environment @{ CALSTUDIO_STATE_DIR = (New-StateDir "scheme-$Kind") } -Script (New-ModuleRunScript @{
                Uri = $emu.Uri.AbsoluteUri; Key = $key; Count = $script:SchemeCount; ThrottleLimit = 8; Prefix = "$Kind-"; RequestsPerMinute = $RequestsPerMinute })
        $s = Get-CalStudioEmulatorStats $emu -NoPrompts
        [pscustomobject]@{ Result = $run.Result; Stats = $s; TooMany = (Get-StatusCount $s '429') }
    }
    finally { $emu | Stop-CalStudioEmulator }
}

function Add-SchemeRows([string] $Name, [string] $What, $Run, [double] $Ideal, [double] $Target) {
    $r = $Run.Result
    $ok = ($r.Seconds / $Ideal -le $Target) -and $Run.TooMany -le 2 -and $r.Answered -eq $script:SchemeCount -and $r.Errors -eq 0
    Add-Row "$Name $What" "$(F $r.Seconds) s, $($Run.TooMany) x 429, $($r.Answered)/$($script:SchemeCount) answered" "ideal $(F $Ideal) s" ($r.Seconds / $Ideal) "<= $(F $Target)x, <= 2 x 429" $ok
}

function Invoke-SchemeBenchmark([string] $Kind) {
    $name = "scheme-$Kind"
    foreach ($format in 'epoch', 'delta', 'none') {
        Add-SchemeRows $name "headers only, Reset $format" (Invoke-SchemeRun $Kind $format) $script:SchemeHeadersIdeal 1.15
    }
    Add-SchemeRows $name 'rate given (-RequestsPerMinute 200)' (Invoke-SchemeRun $Kind 'epoch' 200) $script:SchemeRateIdeal 1.10
    Add-Note $name "40 prompts, emulator --rpm 10 --window-ms 3000 --window-kind $Kind --latency-ms 20-40, ThrottleLimit 8, fresh key and state per run."
}
