# Benchmark scenario, dot-sourced by bench/Run-Benchmarks.ps1 (helpers: bench/BenchSupport.ps1).

function Invoke-Latency200Benchmark {
    $name = 'latency200'
    $count = 400; $throttle = 16; $ideal = $count * 0.2 / $throttle
    $emu = Start-BenchEmulator '--latency-ms', '200'
    try {
        $uri = $emu.Uri.AbsoluteUri
        # One child per side: a warm-up (JIT and tiering settle, as in a long-lived session), then 3 measured runs.
        Reset-CalStudioEmulator $emu
        # The warm-up goes to a zero-latency emulator: JIT tiering needs tens of thousands of calls to settle.
        $warmEmu = Start-BenchEmulator
        try {
            $run = Invoke-BenchChild -TimeoutSec 150 -Script (New-ModuleRunScript @{ Uri = $uri; Key = $emu.Key; Count = $count; ThrottleLimit = $throttle; WarmUp = 30000; WarmUpUri = $warmEmu.Uri.AbsoluteUri; Repeat = 3; MeasureIdleCpu = $true })
        }
        finally { $warmEmu | Stop-CalStudioEmulator }
        $module = @($run.Results)
        $moduleMax = (Get-CalStudioEmulatorStats $emu -NoPrompts).maxInFlight

        Reset-CalStudioEmulator $emu
        $fep = Q (Join-Path $script:BenchDir 'Baseline-ForEachParallel.ps1')
        $script = "`$null = & $fep -Uri $(Q $uri) -Key $(Q $emu.Key) -Count 128 -ThrottleLimit $throttle -Prefix 'warm-'; " +
                  "foreach (`$rep in 1..3) { & $fep -Uri $(Q $uri) -Key $(Q $emu.Key) -Count $count -ThrottleLimit $throttle -Prefix `"p`$rep-`" }"
        $parallel = @((Invoke-BenchChild -TimeoutSec 150 -Script $script).Results)
        $parallelMax = (Get-CalStudioEmulatorStats $emu -NoPrompts).maxInFlight
        $m = Get-Median $module.Seconds
        $b = Get-Median $parallel.Seconds
        $cpuPerPrompt = @($module | ForEach-Object { ($_.CpuMs - $_.IdleCpuMs) / $count })
        $cpu = Get-Median $cpuPerPrompt
        Add-Row "$name wall vs ideal" "$(F $m) s" "$(F $ideal) s (ideal 400x0.2 s/16)" ($m / $ideal) '<= 1.05x' ($m / $ideal -le 1.05)
        Add-Row "$name wall vs ForEach -Parallel" "$(F $m) s" "$(F $b) s (ForEach-Object -Parallel + Invoke-RestMethod)" ($m / $b) '<= 1.00x' ($m / $b -le 1.0)
        Add-Row "$name CPU per prompt" "$(F $cpu '0.000') ms" "idle run: $(F (Get-Median $module.IdleCpuMs) '0') ms total" $null '<= 1 ms/prompt' ($cpu -le 1.0)
        Add-Note $name ("3 runs each after a warm-up, in one fresh pwsh per side (median shown). Module s: {0}; -Parallel s: {1}; module CPU ms/prompt: {2} (process CPU ms run/idle: {3}); answered: {4}; errors: {5}; emulator maxInFlight module/parallel: {6} / {7}; warm-up (30,000 prompts at zero latency, incl. JIT) CPU: {8} ms." -f
            (($module.Seconds | ForEach-Object { F $_ }) -join ', '), (($parallel.Seconds | ForEach-Object { F $_ }) -join ', '),
            (($cpuPerPrompt | ForEach-Object { F $_ '0.000' }) -join ', '), (($module | ForEach-Object { "$(F $_.CpuMs '0')/$(F $_.IdleCpuMs '0')" }) -join ', '),
            (($module.Answered) -join ', '), (($module.Errors) -join ', '), $moduleMax, $parallelMax, (F $module[0].WarmCpuMs '0'))
    }
    finally { $emu | Stop-CalStudioEmulator }
}
