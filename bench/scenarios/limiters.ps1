# Benchmark scenario, dot-sourced by bench/Run-Benchmarks.ps1 (helpers: bench/BenchSupport.ps1).

<#
Rate limiters that hide their rules (issue 18): 40 prompts, a limit of 10 per 3 s, 20-40 ms latency, default settings
(no plan, no rate, no -ThrottleLimit), a cold start and then a second run on the same key and state folder. Ideal
11.7 s: the 40 prompts evenly spaced at the limiter's rate. Each row is one emulator behaviour: the header forms
(--rate-headers) and the limiters that say nothing (--rate-headers none, a fixed window or a bucket, refusing with a
429 or an HTML 503).
#>
$script:LimiterCount = 40
$script:LimiterIdeal = 11.7

function Invoke-LimiterRuns([string[]] $EmulatorArgs, [string] $Label) {
    $key = 'cs_bench_' + [guid]::NewGuid().ToString('n')
    $state = New-StateDir 'limiter'
    $emu = Start-BenchEmulator (@('--rpm', '10', '--window-ms', '3000', '--latency-ms', '20-40') + $EmulatorArgs) -Key $key
    try {
        foreach ($pass in 'cold', 'second run') {
            $before = Get-CalStudioEmulatorStats $emu -NoPrompts
            $run = Invoke-BenchChild -TimeoutSec 180 -Environment @{ CALSTUDIO_STATE_DIR = $state } -Script (New-ModuleRunScript @{
                    Uri = $emu.Uri.AbsoluteUri; Key = $key; Count = $script:LimiterCount; ThrottleLimit = 0; Prefix = "$Label-$pass-" })
            $after = Get-CalStudioEmulatorStats $emu -NoPrompts
            $refused = (Get-StatusCount $after '429') + (Get-StatusCount $after '503') - (Get-StatusCount $before '429') - (Get-StatusCount $before '503')
            [pscustomobject]@{ Pass = $pass; Result = $run.Result; Refused = $refused }
        }
    }
    finally { $emu | Stop-CalStudioEmulator }
}

function Add-LimiterRows([string] $Label, [string[]] $EmulatorArgs, [int] $ColdRefusals, [double] $ColdRatio) {
    foreach ($r in Invoke-LimiterRuns $EmulatorArgs $Label) {
        $maxRefused = if ($r.Pass -eq 'cold') { $ColdRefusals } else { 2 }
        $maxRatio = if ($r.Pass -eq 'cold') { $ColdRatio } else { 1.15 }
        $ratio = $r.Result.Seconds / $script:LimiterIdeal
        $ok = $ratio -le $maxRatio -and $r.Refused -le $maxRefused -and $r.Result.Answered -eq $script:LimiterCount
        Add-Row "limiters $Label, $($r.Pass)" "$(F $r.Result.Seconds) s, $($r.Refused) refused, $($r.Result.Answered)/$($script:LimiterCount) answered" "ideal $(F $script:LimiterIdeal) s" $ratio "<= $(F $maxRatio)x, <= $maxRefused refused" $ok
    }
}

function Invoke-LimitersBenchmark {
    Add-LimiterRows 'x-ratelimit' @('--window-kind', 'fixed', '--rate-headers', 'x-ratelimit') 2 1.15
    Add-LimiterRows 'draft6' @('--window-kind', 'fixed', '--rate-headers', 'draft6') 2 1.15
    Add-LimiterRows 'draft7' @('--window-kind', 'fixed', '--rate-headers', 'draft7') 2 1.15
    Add-LimiterRows 'draft8' @('--window-kind', 'fixed', '--rate-headers', 'draft8') 2 1.15
    Add-LimiterRows '429 bare' @('--window-kind', 'fixed', '--rate-headers', 'none') 6 1.25
    Add-LimiterRows 'bucket 429' @('--window-kind', 'bucket', '--rate-headers', 'none') 6 1.25
    Add-LimiterRows 'bucket 503-html' @('--window-kind', 'bucket', '--rate-headers', 'none', '--refusal', '503-html') 6 1.25
    Add-Note 'limiters' '40 prompts per run, emulator --rpm 10 --window-ms 3000 --latency-ms 20-40, default settings; the second run shares the first run''s key and state folder.'
}
