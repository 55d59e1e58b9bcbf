# Benchmark scenario, dot-sourced by bench/Run-Benchmarks.ps1 (helpers: bench/BenchSupport.ps1).

function Invoke-PacingBenchmark {
    $name = 'pacing'
    $count = 120; $rpm = 30; $windowSec = 5
    $ideal = $count / $rpm * $windowSec
    $key = 'cs_bench_' + [guid]::NewGuid().ToString('n')
    $emu = Start-BenchEmulator '--rpm', "$rpm", '--window-ms', "$($windowSec * 1000)" -Key $key
    try {
        $state = New-StateDir 'pacing'
        $run = Invoke-BenchChild -TimeoutSec 180 -Environment @{ CALSTUDIO_STATE_DIR = $state } -Script (New-ModuleRunScript @{ Uri = $emu.Uri.AbsoluteUri; Key = $key; Count = $count; ThrottleLimit = 16; Prefix = 'pace-' })
        $s = Get-CalStudioEmulatorStats $emu -NoPrompts
        $r = $run.Result
        $n429 = Get-StatusCount $s '429'
        Add-Row "$name wall vs ideal" "$(F $r.Seconds) s" "$(F $ideal) s (120 / 30 per 5 s window)" ($r.Seconds / $ideal) '<= 1.15x' ($r.Seconds / $ideal -le 1.15)
        Add-Row "$name 429 answers" "$n429" '-' $null '<= 1' ($n429 -le 1)
        Add-Note $name ("no -Plan, ThrottleLimit 16, fresh key and CALSTUDIO_STATE_DIR. Answered {0} of {1}, errors {2} {3}; emulator requests {4}, status counts: {5}." -f
            $r.Answered, $count, $r.Errors, ($r.ErrorIds -join ' '), $s.requests, (Format-StatusCounts $s))
    }
    finally { $emu | Stop-CalStudioEmulator }
}
