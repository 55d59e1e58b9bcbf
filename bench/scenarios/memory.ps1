# Benchmark scenario, dot-sourced by bench/Run-Benchmarks.ps1 (helpers: bench/BenchSupport.ps1).

function Invoke-MemoryBenchmark {
    $name = 'memory'
    $emu = Start-BenchEmulator
    try {
        $results = @{}
        foreach ($count in 0, 10000, 100000) {
            Reset-CalStudioEmulator $emu
            $script = "& $(Q (Join-Path $script:BenchDir 'Measure-ModuleMemory.ps1')) -ModulePath $(Q $ModulePath) -Uri $(Q $emu.Uri.AbsoluteUri) -Key $(Q $emu.Key) -Count $count -ThrottleLimit 16"
            $run = Invoke-BenchChild -TimeoutSec 300 -Script $script
            if ($count -gt 0 -and $run.Result.Answered -ne $count) { throw "The memory run answered $($run.Result.Answered) of $count prompts." }
            $results[$count] = [pscustomobject]@{ Peak = [double]$run.Result.PeakWorkingSet; Sampled = [double]$run.PeakSampled; Seconds = $run.Result.Seconds; Gc = [double]$run.Result.GcHeapBytes; Gen2 = $run.Result.GcCount2 }
        }
        $mb = 1MB
        $idle = $results[0].Peak
        $inc10 = ($results[10000].Peak - $idle) / $mb
        $inc100 = ($results[100000].Peak - $idle) / $mb
        Add-Row "$name 100k peak WS over idle" "$(F $inc100 '0.0') MB (peak $(F ($results[100000].Peak / $mb) '0') MB)" "idle module $(F ($idle / $mb) '0') MB" $null '<= 100 MB' ($inc100 -le 100)
        # Flat means the 90,000 extra rows cost no memory of their own: keeping even one ~1 KB result per row would add
        # ~90 MB, so a difference under 25 MB (< 0.3 KB a row, GC heap sizing noise) shows nothing accumulates.
        $flat = if ($inc10 -gt 0) { $inc100 / $inc10 } else { [double]::NaN }
        Add-Row "$name flatness 100k vs 10k" "+$(F $inc100 '0.0') MB at 100k" "+$(F $inc10 '0.0') MB at 10k" $flat '100k - 10k <= 25 MB' (($inc100 - $inc10) -le 25)
        Add-Note $name ("Peak working set (child's own VmHWM) idle/10k/100k: {0}/{1}/{2} MB; parent-sampled peak: {3}/{4}/{5} MB; run time 10k/100k: {6}/{7} s; GC heap at end: {8}/{9}/{10} MB; gen2 GCs: {11}/{12}/{13}." -f
            (F ($results[0].Peak / $mb) '0'), (F ($results[10000].Peak / $mb) '0'), (F ($results[100000].Peak / $mb) '0'),
            (F ($results[0].Sampled / $mb) '0'), (F ($results[10000].Sampled / $mb) '0'), (F ($results[100000].Sampled / $mb) '0'),
            (F $results[10000].Seconds '0.0'), (F $results[100000].Seconds '0.0'),
            (F ($results[0].Gc / $mb) '0.0'), (F ($results[10000].Gc / $mb) '0.0'), (F ($results[100000].Gc / $mb) '0.0'),
            $results[0].Gen2, $results[10000].Gen2, $results[100000].Gen2)
    }
    finally { $emu | Stop-CalStudioEmulator }
}
