# Benchmark scenario, dot-sourced by bench/Run-Benchmarks.ps1 (helpers: bench/BenchSupport.ps1).

function Invoke-TwoProcessBenchmark {
    $name = 'two-process'
    $key = 'cs_bench_' + [guid]::NewGuid().ToString('n')
    $emu = Start-BenchEmulator '--rpm', '10', '--window-ms', '3000', '--window-kind', 'sliding', '--reset-format', 'epoch', '--latency-ms', '20-40' -Key $key
    $state = New-StateDir $name
    $procs = @()
    try {
        # Two children on one key and one state folder, started together; each sends 20 of the 40 prompts.
        $procs = foreach ($i in 1, 2) {
            $script = "`$r = & { $(New-ModuleRunScript @{ Uri = $emu.Uri.AbsoluteUri; Key = $key; Count = 20; ThrottleLimit = 8; Prefix = "p$i-"; RequestsPerMinute = 200 }) }; 'BENCH-RESULT ' + (ConvertTo-Json -InputObject `$r -Compress)"
            Start-PwshProcess -Script $script -Environment @{ CALSTUDIO_STATE_DIR = $state }
        }
        $results = foreach ($p in $procs) {
            $out = $p.StandardOutput.ReadToEndAsync()
            if (-not $p.WaitForExit(120000)) { $p.Kill($true); throw 'A two-process child did not finish within 120 s.' }
            $line = @($out.Result -split "`r?`n" | Where-Object { $_ -like 'BENCH-RESULT *' }) | Select-Object -Last 1
            if (-not $line) { throw "A two-process child reported no result: $($p.StandardError.ReadToEnd())" }
            $line.Substring('BENCH-RESULT '.Length) | ConvertFrom-Json
        }
        $s = Get-CalStudioEmulatorStats $emu -NoPrompts
        # From the first prompt sent by either to the last answer in either: the two process starts are left out.
        $seconds = ((($results | Measure-Object EndedUnixMs -Maximum).Maximum) - (($results | Measure-Object StartedUnixMs -Minimum).Minimum)) / 1000
        $answered = ($results | Measure-Object Answered -Sum).Sum
        $tooMany = Get-StatusCount $s '429'
        $ok = ($seconds / $script:SchemeRateIdeal -le 1.2) -and $tooMany -le 2 -and $answered -eq 40
        Add-Row "$name sliding, rate given" "$(F $seconds) s, $tooMany x 429, $answered/40 answered" "ideal $(F $script:SchemeRateIdeal) s" ($seconds / $script:SchemeRateIdeal) '<= 1.20x, <= 2 x 429' $ok
        Add-Note $name "two child pwsh on one key and state folder, 20 prompts each, -RequestsPerMinute 200 each, ThrottleLimit 8; emulator --rpm 10 --window-ms 3000 --window-kind sliding. Each alone: $(($results | ForEach-Object { F $_.Seconds }) -join ' s, ') s."
    }
    finally {
        foreach ($p in $procs) { if (-not $p.HasExited) { $p.Kill($true) }; $p.Dispose() }
        $emu | Stop-CalStudioEmulator
    }
}
