# Benchmark scenario, dot-sourced by bench/Run-Benchmarks.ps1 (helpers: bench/BenchSupport.ps1).

function Invoke-ZeroLatencyBenchmark {
    $name = 'zero-latency'
    $count = 5000; $throttle = 16; $seqCount = 1000
    $dll = Build-HttpClientBaseline
    $emu = Start-BenchEmulator
    try {
        $uri = $emu.Uri.AbsoluteUri
        # Both processes JIT-tier for tens of thousands of requests (measured: a fresh pwsh goes from ~2,700 to ~9,000
        # prompts/s over 40,000 prompts), so the emulator is warmed first by the C# client and the module's process by
        # 30,000 prompts; the comparison is of steady states, as in a long batch.
        $null = & dotnet $dll $uri $emu.Key 20000 $throttle 2000
        Reset-CalStudioEmulator $emu
        $run = Invoke-BenchChild -TimeoutSec 300 -Script (New-ModuleRunScript @{ Uri = $uri; Key = $emu.Key; Count = $count; ThrottleLimit = $throttle; WarmUp = 30000; Repeat = 3 })
        $moduleMax = (Get-CalStudioEmulatorStats $emu -NoPrompts).maxInFlight
        $coldRate = 30000 / $run.Results[0].WarmSeconds
        $module = @($run.Results | ForEach-Object {
            if ($_.Answered -ne $count) { throw "The module answered $($_.Answered) of $count prompts ($($_.ErrorIds -join ', '))." }
            [pscustomobject]@{ Rate = $count / $_.Seconds; CpuMs = $_.CpuMs }
        })
        $client = @()
        foreach ($rep in 1..3) {
            Reset-CalStudioEmulator $emu
            $text = & dotnet $dll $uri $emu.Key $count $throttle 2000
            if ($LASTEXITCODE -ne 0 -or "$text" -notmatch 'requests_per_s=([\d.]+)') { throw "HttpClientBaseline failed: $text" }
            $client += [double]::Parse($Matches[1], $inv)
        }
        Reset-CalStudioEmulator $emu
        $script = "`$null = & $(Q (Join-Path $script:BenchDir 'Baseline-InvokeRestMethodLoop.ps1')) -Uri $(Q $uri) -Key $(Q $emu.Key) -Count 50 -Prefix 'warm-'; " +
                  "& $(Q (Join-Path $script:BenchDir 'Baseline-InvokeRestMethodLoop.ps1')) -Uri $(Q $uri) -Key $(Q $emu.Key) -Count $seqCount"
        $seq = (Invoke-BenchChild -TimeoutSec 180 -Script $script).Result
        $m = Get-Median $module.Rate
        $c = Get-Median $client
        Add-Row "$name vs sequential Invoke-RestMethod" "$(F $m '0') prompts/s" "$(F $seq.PerSecond '0') /s (foreach + Invoke-RestMethod, $seqCount prompts)" ($m / $seq.PerSecond) '>= 3x' ($m / $seq.PerSecond -ge 3)
        Add-Row "$name vs bare HttpClient" "$(F $m '0') prompts/s" "$(F $c '0') /s (C# HttpClient, 16 concurrent)" ($m / $c) '>= 0.5x' ($m / $c -ge 0.5)
        Add-Note $name ("$count prompts, ThrottleLimit $throttle, 3 runs each after a warm-up (emulator pre-warmed with 20,000 C# requests; module: 30,000 prompts in the same fresh pwsh, so JIT tiering has settled; HttpClient: 2,000; median shown). Module prompts/s: {0} (process CPU ms/prompt incl. pipeline: {1}); rate of the module's first 30,000 prompts in a fresh process: {5} /s; emulator maxInFlight during module runs: {6}; HttpClient req/s: {2}; sequential loop: {3} answered in {4} s." -f
            (($module.Rate | ForEach-Object { F $_ '0' }) -join ', '), (($module | ForEach-Object { F ($_.CpuMs / $count) '0.000' }) -join ', '),
            (($client | ForEach-Object { F $_ '0' }) -join ', '), $seq.Answered, (F $seq.Seconds), (F $coldRate '0'), $moduleMax)
    }
    finally { $emu | Stop-CalStudioEmulator }
}
