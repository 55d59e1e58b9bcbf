<#
.SYNOPSIS
Benchmarks the built CalStudio module against the local emulator and against what a user would write without it.

.DESCRIPTION
Starts its own emulators (tests/Support/Emulator.psm1, loopback only), runs every workload in a fresh pwsh child
process (so memory, CPU and import time are the module's alone), prints a table and writes it as markdown, with
the machine, to out/bench/results.md. Benchmarks: latency200, zero-latency, memory, import, pacing, soak, journal-open, inflight,
scheme-fixed, scheme-sliding, scheme-bucket (rate-window schemes) and two-process.
The baselines users would write are separate scripts in this folder:
Baseline-InvokeRestMethodLoop.ps1, Baseline-ForEachParallel.ps1 and HttpClientBaseline/ (bare C# HttpClient).

.EXAMPLE
dotnet pwsh ./build.ps1 -Bench -BenchFilter latency*
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string] $ModulePath,
    # Runs only the benchmarks whose names match this wildcard.
    [string] $Filter = '*'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path
$ModulePath = (Resolve-Path $ModulePath).Path
$builtModulePath = $ModulePath
$outDir = Join-Path $root 'out/bench'
$null = New-Item -ItemType Directory -Path $outDir -Force
$emulatorModule = Import-Module (Join-Path $root 'tests/Support/Emulator.psm1') -Force -PassThru

<#
Other work may rebuild out/ while the benchmarks run (build.ps1 deletes and relays out/CalStudio), so the run uses a
private copy of the built module and emulator: out/bench/snapshot/{CalStudio,out/emulator}. The emulator helper is
pointed at that copy; everything else about it (start, stats, reset, stop) is unchanged.
#>
function New-BuildSnapshot {
    $snapshot = Join-Path $outDir 'snapshot'
    $moduleDir = Split-Path $ModulePath -Parent
    $emulatorDir = Join-Path $root 'out/emulator'
    for ($attempt = 1; ; $attempt++) {
        try {
            if (Test-Path $snapshot) { Remove-Item $snapshot -Recurse -Force }
            $null = New-Item -ItemType Directory -Path (Join-Path $snapshot 'out') -Force
            Copy-Item $moduleDir (Join-Path $snapshot (Split-Path $moduleDir -Leaf)) -Recurse
            Copy-Item $emulatorDir (Join-Path $snapshot 'out/emulator') -Recurse
            $psd1 = Join-Path $snapshot (Join-Path (Split-Path $moduleDir -Leaf) (Split-Path $ModulePath -Leaf))
            foreach ($f in $psd1, (Join-Path $snapshot 'out/emulator/CalStudio.Emulator.dll')) { if (-not (Test-Path $f)) { throw "$f is missing." } }
            $null = Test-ModuleManifest $psd1 -ErrorAction Stop
            return [pscustomobject]@{ Root = $snapshot; ModulePath = $psd1 }
        }
        catch {
            if ($attempt -ge 5) { throw "Could not copy the built module and emulator (is a build running?): $($_.Exception.Message)" }
            Start-Sleep -Seconds 3
        }
    }
}
$snapshot = New-BuildSnapshot
$ModulePath = $snapshot.ModulePath
& $emulatorModule { param($r) $script:RepoRoot = $r } $snapshot.Root

$script:Rows = [System.Collections.Generic.List[object]]::new()
$script:Notes = [System.Collections.Generic.List[string]]::new()
$script:StateRoot = Join-Path ([System.IO.Path]::GetTempPath()) "calstudio-bench-$PID"
$inv = [System.Globalization.CultureInfo]::InvariantCulture

# ---------------------------------------------------------------- helpers

function Q([string] $text) { "'" + $text.Replace("'", "''") + "'" }

function F([double] $value, [string] $format = '0.00') { $value.ToString($format, $inv) }

function Get-Median([double[]] $values) {
    $sorted = @($values | Sort-Object)
    if ($sorted.Count -eq 0) { return [double]::NaN }
    $mid = [int][Math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2) { return $sorted[$mid] }
    ($sorted[$mid - 1] + $sorted[$mid]) / 2
}

function Add-Row([string] $Benchmark, [string] $Module, [string] $Baseline, $Ratio, [string] $Target, $Pass) {
    $ratioText = if ($null -eq $Ratio) { '-' } elseif ($Ratio -is [string]) { $Ratio } else { (F $Ratio) + 'x' }
    $passText = if ($Pass -is [bool]) { if ($Pass) { 'yes' } else { 'NO' } } else { [string]$Pass }
    $row = [pscustomobject]@{ Benchmark = $Benchmark; Module = $Module; Baseline = $Baseline; Ratio = $ratioText; Target = $Target; Pass = $passText }
    $script:Rows.Add($row)
    Write-Host ("  {0}: {1} | {2} | {3} | {4} | {5}" -f $row.Benchmark, $row.Module, $row.Baseline, $row.Ratio, $row.Target, $row.Pass) -ForegroundColor $(if ($passText -eq 'yes' -or $passText -eq 'info') { 'Green' } else { 'Yellow' })
}

function Add-Note([string] $Benchmark, [string] $Text) {
    $script:Notes.Add("**$Benchmark**: $Text")
    Write-Host "  ($Benchmark) $Text" -ForegroundColor DarkGray
}

function New-StateDir([string] $name) {
    $dir = Join-Path $script:StateRoot "$name-$([guid]::NewGuid().ToString('n').Substring(0, 8))"
    $null = New-Item -ItemType Directory -Path $dir -Force
    $dir
}

<#
Runs a script in a fresh pwsh; the script's output object comes back as JSON on a "BENCH-RESULT " line.
Samples the child's working set meanwhile (a cross-check of the child's own peak). Kills the child on timeout.
#>
function Invoke-BenchChild {
    param([Parameter(Mandatory)][string] $Script, [hashtable] $Environment = @{}, [int] $TimeoutSec = 120, [scriptblock] $OnTick)
    $wrapped = "`$ErrorActionPreference = 'Stop'; `$r = & { $Script }; 'BENCH-RESULT ' + (ConvertTo-Json -InputObject @(`$r) -Compress -Depth 6)"
    if (-not $Environment.ContainsKey('CALSTUDIO_STATE_DIR')) { $Environment['CALSTUDIO_STATE_DIR'] = New-StateDir 'child' }
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $p = Start-PwshProcess -Script $wrapped -Environment $Environment
    try {
        $stdout = $p.StandardOutput.ReadToEndAsync()
        $stderr = $p.StandardError.ReadToEndAsync()
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
        $peakSampled = 0L
        $lastTick = [System.Diagnostics.Stopwatch]::StartNew()
        while (-not $p.WaitForExit(100)) {
            try { $p.Refresh(); $peakSampled = [Math]::Max($peakSampled, $p.WorkingSet64) } catch { }
            if ($OnTick -and $lastTick.ElapsedMilliseconds -ge 250) { $lastTick.Restart(); try { & $OnTick } catch { } }
            if ([DateTime]::UtcNow -gt $deadline) {
                $p.Kill($true)
                throw "The child pwsh did not finish within $TimeoutSec s."
            }
        }
        $p.WaitForExit()
        $clock.Stop()
        $null = $stdout.Wait(10000); $null = $stderr.Wait(10000)
        $line = @($stdout.Result -split "`r?`n" | Where-Object { $_ -like 'BENCH-RESULT *' }) | Select-Object -Last 1
        if (-not $line) { throw "The child pwsh (exit $($p.ExitCode)) reported no result. stderr: $($stderr.Result) stdout: $($stdout.Result)" }
        $results = @($line.Substring('BENCH-RESULT '.Length) | ConvertFrom-Json)
        [pscustomobject]@{
            Results     = $results
            Result      = $results[-1]
            ExitCode    = $p.ExitCode
            StdErr      = $stderr.Result
            WallMs      = $clock.Elapsed.TotalMilliseconds
            PeakSampled = $peakSampled
        }
    }
    finally { $p.Dispose() }
}

function Get-StatusCount($stats, [string] $name) {
    $prop = $stats.statusCounts.PSObject.Properties[$name]
    if ($prop) { [long]$prop.Value } else { 0L }
}

function Format-StatusCounts($stats) {
    ($stats.statusCounts.PSObject.Properties | ForEach-Object { "$($_.Name)=$($_.Value)" }) -join ', '
}

function New-ModuleRunScript([hashtable] $Arguments) {
    $parts = foreach ($k in $Arguments.Keys) {
        $v = $Arguments[$k]
        if ($v -is [switch] -or $v -is [bool]) { if ($v) { "-$k" } } else { "-$k $(Q ([string]$v))" }
    }
    "& $(Q (Join-Path $PSScriptRoot 'Measure-ModuleRun.ps1')) -ModulePath $(Q $ModulePath) $($parts -join ' ')"
}

function Start-BenchEmulator([string[]] $Arguments = @(), [string] $Key = 'cs_bench_key') {
    Start-CalStudioEmulator -ArgumentList $Arguments -Key $Key
}

# ---------------------------------------------------------------- benchmarks

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
        $fep = Q (Join-Path $PSScriptRoot 'Baseline-ForEachParallel.ps1')
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

function Build-HttpClientBaseline {
    $dll = Join-Path $outDir 'HttpClientBaseline/HttpClientBaseline.dll'
    $proj = Join-Path $PSScriptRoot 'HttpClientBaseline/HttpClientBaseline.csproj'
    dotnet build $proj -c Release -o (Join-Path $outDir 'HttpClientBaseline') --nologo -v quiet | Out-Host
    if ($LASTEXITCODE -ne 0 -or -not (Test-Path $dll)) { throw "Building $proj failed (exit $LASTEXITCODE)." }
    $dll
}

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
        $script = "`$null = & $(Q (Join-Path $PSScriptRoot 'Baseline-InvokeRestMethodLoop.ps1')) -Uri $(Q $uri) -Key $(Q $emu.Key) -Count 50 -Prefix 'warm-'; " +
                  "& $(Q (Join-Path $PSScriptRoot 'Baseline-InvokeRestMethodLoop.ps1')) -Uri $(Q $uri) -Key $(Q $emu.Key) -Count $seqCount"
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

function Invoke-MemoryBenchmark {
    $name = 'memory'
    $emu = Start-BenchEmulator
    try {
        $results = @{}
        foreach ($count in 0, 10000, 100000) {
            Reset-CalStudioEmulator $emu
            $script = "& $(Q (Join-Path $PSScriptRoot 'Measure-ModuleMemory.ps1')) -ModulePath $(Q $ModulePath) -Uri $(Q $emu.Uri.AbsoluteUri) -Key $(Q $emu.Key) -Count $count -ThrottleLimit 16"
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

function Invoke-ImportBenchmark {
    $name = 'import'
    $runs = 7
    $bare = [System.Collections.Generic.List[double]]::new()
    $import = [System.Collections.Generic.List[double]]::new()
    $measure = {
        param([string] $script)
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $p = Start-PwshProcess -Script $script
        try {
            $err = $p.StandardError.ReadToEndAsync(); $null = $p.StandardOutput.ReadToEndAsync()
            if (-not $p.WaitForExit(60000)) { $p.Kill($true); throw "pwsh -c '$script' did not finish in 60 s." }
            $p.WaitForExit(); $clock.Stop()
            if ($p.ExitCode -ne 0 -or $err.Result) { throw "pwsh -c '$script' failed (exit $($p.ExitCode)): $($err.Result)" }
            $clock.Elapsed.TotalMilliseconds
        }
        finally { $p.Dispose() }
    }
    $importScript = "Import-Module $(Q $ModulePath)"
    # A control: any first Import-Module in a process loads PowerShell's module machinery; an empty script module
    # shows that fixed cost, so the module's own share is the difference to it.
    $emptyModule = Join-Path $outDir 'EmptyControl/EmptyControl.psm1'
    $null = New-Item -ItemType Directory (Split-Path $emptyModule) -Force
    Set-Content $emptyModule '# intentionally empty'
    $emptyScript = "Import-Module $(Q $emptyModule)"
    $empty = [System.Collections.Generic.List[double]]::new()
    # A second control: a session that has shown output once has loaded PowerShell's own format and type tables,
    # which a module with format/types files otherwise makes it load at import.
    $formatted = 'Get-Date | Out-String | Out-Null'
    $formattedImport = "$formatted; $importScript"
    $afterFormat = [System.Collections.Generic.List[double]]::new()
    $afterFormatImport = [System.Collections.Generic.List[double]]::new()
    # One untimed run of each first (disk cache), then alternate so drift hits all alike.
    $null = & $measure '$null'; $null = & $measure $importScript; $null = & $measure $emptyScript
    foreach ($i in 1..$runs) {
        $bare.Add((& $measure '$null'))
        $import.Add((& $measure $importScript))
        $empty.Add((& $measure $emptyScript))
        $afterFormat.Add((& $measure $formatted))
        $afterFormatImport.Add((& $measure $formattedImport))
    }
    $b = Get-Median $bare; $m = Get-Median $import
    $delta = $m - $b
    # Cross-check that start-up noise cannot blur: Import-Module timed inside fresh processes.
    $inProcess = foreach ($i in 1..5) {
        (Invoke-BenchChild -TimeoutSec 60 -Script "(Measure-Command { Import-Module $(Q $ModulePath) }).TotalMilliseconds").Result
    }
    Add-Row "$name Import-Module time" "+$(F $delta '0') ms ($(F $m '0') ms with import)" "$(F $b '0') ms bare pwsh -NoProfile" ($m / $b) '<= 150 ms over bare' ($delta -le 150)
    $e = Get-Median $empty
    $fb = Get-Median $afterFormat; $fm = Get-Median $afterFormatImport
    Add-Row "$name in a session that has shown output" "$(F ($fm - $fb) '+0;-0') ms ($(F $fm '0') ms)" "$(F $fb '0') ms pwsh -c 'Get-Date | Out-String'" ($fm / $fb) '<= 150 ms over it' (($fm - $fb) -le 150)
    Add-Row "$name over an empty script module" "+$(F ($m - $e) '0') ms" "$(F $e '0') ms importing an empty .psm1 (+$(F ($e - $b) '0') ms over bare)" $null 'informational' 'info'
    Add-Note $name ("median of $runs, pwsh -NoProfile -NonInteractive -Command. Bare ms: {0}; with Import-Module ms: {1}; difference of the minimums: {2} ms. Import-Module timed inside a fresh pwsh (Measure-Command, 5 runs): {3} ms, median {4} ms." -f
        (($bare | ForEach-Object { F $_ '0' }) -join ', '), (($import | ForEach-Object { F $_ '0' }) -join ', '),
        (F (($import | Measure-Object -Minimum).Minimum - ($bare | Measure-Object -Minimum).Minimum) '0'),
        (($inProcess | ForEach-Object { F $_ '0' }) -join ', '), (F (Get-Median $inProcess) '0'))
}

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

function Invoke-SoakBenchmark {
    $name = 'soak'
    $count = 2000
    $emu = Start-BenchEmulator '--seed', '42', '--fault-500', '0.10', '--fault-502-html', '0.05', '--fault-drop', '0.03', '--fault-hang', '0.02'
    try {
        # Requests in flight at the emulator, sampled every 250 ms: shows whether ThrottleLimit 16 is kept busy while rows retry.
        $samples = [System.Collections.Generic.List[long]]::new()
        $tick = { $samples.Add([long](Get-CalStudioEmulatorStats $emu -NoPrompts).inFlight) }
        $run = Invoke-BenchChild -TimeoutSec 420 -OnTick $tick -Script (New-ModuleRunScript @{ Uri = $emu.Uri.AbsoluteUri; Key = $emu.Key; Count = $count; ThrottleLimit = 16; TimeoutSec = 2; Prefix = 'soak-'; CheckRows = $true })
        $r = $run.Result
        $s = Get-CalStudioEmulatorStats $emu
        $doubled = @($s.prompts.PSObject.Properties | Where-Object { $_.Value.succeeded -gt 1 })
        $rate = $r.Succeeded / $count
        Add-Row "$name success rate" "$(F ($rate * 100) '0.00') % ($($r.Succeeded) of $count)" '-' $null '>= 99.5 %' ($rate -ge 0.995)
        Add-Row "$name rows not exactly once" "$($r.RowsNotExactlyOnce)" "$count rows: $($r.Answered) answers + $($r.Errors) errors" $null '0' ($r.RowsNotExactlyOnce -eq 0 -and $r.UnknownRows -eq 0 -and ($r.Answered + $r.Errors) -eq $count)
        Add-Row "$name prompts answered twice" "$($doubled.Count)" '-' $null '0' ($doubled.Count -eq 0)
        $busy = if ($samples.Count) { ($samples | Measure-Object -Average).Average } else { [double]::NaN }
        $idle = if ($samples.Count) { @($samples | Where-Object { $_ -eq 0 }).Count / $samples.Count } else { [double]::NaN }
        Add-Note $name ("{0:0.0} s for {5} prompts; in order: {1}; errors: {2}; emulator requests {3}, outcomes: {4}; emulator maxInFlight {6}; requests in flight sampled every 250 ms ({7} samples): mean {8}, 0 in flight in {9} % of samples (hung requests count as in flight)." -f
            $r.Seconds, $r.InOrder, ($(if ($r.ErrorIds) { $r.ErrorIds -join ' ' } else { 'none' })), $s.requests, (Format-StatusCounts $s),
            $count, $s.maxInFlight, $samples.Count, (F $busy '0.0'), (F ($idle * 100) '0'))
    }
    finally { $emu | Stop-CalStudioEmulator }
}

<#
journal-open: what a long journal costs before the first row. A 500,000-row journal (~100 MB, written here) is opened
by a 0-row run in a fresh pwsh; compared with opening an empty journal in the same process (warm, median of 3).
Limits (issue 9): at most 3 s more than the empty journal, at most 300 MB more working set.
#>
function Invoke-JournalOpenBenchmark {
    $name = 'journal-open'
    $rows = 500000
    $dir = New-StateDir 'journal'
    $big = Join-Path $dir 'big.jsonl'
    $writer = [System.IO.StreamWriter]::new($big, $false, [System.Text.UTF8Encoding]::new($false), 1MB)
    try {
        $writer.Write('{"format":"CalStudio.Journal","version":1,"keyProperty":"Id","createdAt":"2026-11-20T08:00:00.0000000+00:00"}' + "`n")
        for ($i = 1; $i -le $rows; $i++) {
            $fp = [guid]::NewGuid().ToString('N')
            $writer.Write('{"key":"' + $i + '","success":true,"fp":"sha256:' + $fp + '","prompt":"Summarise ticket ' + $i +
                '","appName":"helpdesk","message":"A password reset.","statusCode":200,"attempts":1,"durationMs":412,"completedAt":"2026-11-20T08:00:00.0000000+00:00"}' + "`n")
        }
        $writer.Flush()
        $writer.BaseStream.Flush($true) # on disk before the measure: the run's closing fsync must not pay for writing it
    }
    finally { $writer.Dispose() }
    $sizeMb = (Get-Item $big).Length / 1MB
    $emu = Start-BenchEmulator
    try {
        $script = @"
Import-Module $(Q $ModulePath)
Connect-CalStudio -ApiKey (ConvertTo-SecureString $(Q $emu.Key) -AsPlainText -Force) -BaseUri $(Q $emu.Uri.AbsoluteUri) -AppName bench
`$self = [System.Diagnostics.Process]::GetCurrentProcess()
`$open = { param(`$path) (Measure-Command { @() | Invoke-CalStudioPrompt -JournalPath `$path -KeyProperty Id }).TotalSeconds }
`$null = & `$open (Join-Path $(Q $dir) 'warm.jsonl')
`$empty = foreach (`$n in 1..3) { & `$open (Join-Path $(Q $dir) "empty-`$n.jsonl") }
[GC]::Collect(); `$self.Refresh()
`$before = `$self.WorkingSet64
`$cpuBefore = `$self.TotalProcessorTime.TotalSeconds
`$bigSeconds = & `$open $(Q $big)
`$self.Refresh()
[pscustomobject]@{ EmptySeconds = @(`$empty); BigSeconds = `$bigSeconds; BigCpuSeconds = `$self.TotalProcessorTime.TotalSeconds - `$cpuBefore; WorkingSetBefore = `$before; PeakAfter = `$self.PeakWorkingSet64 }
"@
        $run = Invoke-BenchChild -TimeoutSec 300 -Script $script
    }
    finally { $emu | Stop-CalStudioEmulator; Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue }
    $r = $run.Result
    $empty = Get-Median $r.EmptySeconds
    $extra = $r.BigSeconds - $empty
    $growthMb = ($r.PeakAfter - $r.WorkingSetBefore) / 1MB
    Add-Row "$name time" "$(F $r.BigSeconds) s ($rows rows, $(F $sizeMb '0') MB)" "$(F $empty '0.000') s (empty journal)" ($extra / 3.0) '<= 1.00x of +3 s' ($extra -le 3.0)
    Add-Row "$name memory" "+$(F $growthMb '0') MB peak working set" "$(F ($r.WorkingSetBefore / 1MB) '0') MB before" ($growthMb / 300) '<= 1.00x of +300 MB' ($growthMb -le 300)
    Add-Note $name ("One fresh pwsh: a warm-up open, 3 empty-journal opens (s: {0}), then the 500k-row journal; each a 0-row Invoke-CalStudioPrompt -JournalPath -KeyProperty Id (open, index, close). The big open used {1} s of CPU (all threads; less sensitive than wall time to other load on the machine)." -f
        (($r.EmptySeconds | ForEach-Object { F $_ '0.000' }) -join ', '), (F $r.BigCpuSeconds))
}

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

# ---------------------------------------------------------------- run

. (Join-Path $PSScriptRoot 'scenarios/journal-fsync.ps1')
$benchmarks = [ordered]@{
    'latency200'   = ${function:Invoke-Latency200Benchmark}
    'zero-latency' = ${function:Invoke-ZeroLatencyBenchmark}
    'memory'       = ${function:Invoke-MemoryBenchmark}
    'import'       = ${function:Invoke-ImportBenchmark}
    'pacing'       = ${function:Invoke-PacingBenchmark}
    'soak'         = ${function:Invoke-SoakBenchmark}
    'journal-open' = ${function:Invoke-JournalOpenBenchmark}
    'inflight'     = ${function:Invoke-InFlightBenchmark}
    'scheme-fixed'   = { Invoke-SchemeBenchmark 'fixed' }
    'scheme-sliding' = { Invoke-SchemeBenchmark 'sliding' }
    'scheme-bucket'  = { Invoke-SchemeBenchmark 'bucket' }
    'two-process'    = ${function:Invoke-TwoProcessBenchmark}
    'journal-fsync'  = ${function:Invoke-JournalFsyncBenchmark}
}
$selected = @($benchmarks.Keys | Where-Object { $_ -like $Filter })
if (-not $selected) { Write-Warning "No benchmark matches '$Filter' (known: $($benchmarks.Keys -join ', '))."; return }

# Other processes on the machine (builds, tests) skew timings on 2 cores: the report records the load around each benchmark.
function Get-LoadAverage { if (Test-Path /proc/loadavg) { ((Get-Content /proc/loadavg -Raw) -split ' ')[0..2] -join ' ' } }
$script:Loads = [System.Collections.Generic.List[string]]::new()
$total = [System.Diagnostics.Stopwatch]::StartNew()
try {
    foreach ($b in $selected) {
        Write-Host "Benchmark $b" -ForegroundColor Cyan
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $loadBefore = Get-LoadAverage
        try { & $benchmarks[$b] }
        catch {
            Add-Row $b "error: $($_.Exception.Message -replace '\s+', ' ')" '-' $null '-' 'ERROR'
        }
        Write-Host ("  {0} took {1:0.0} s" -f $b, $clock.Elapsed.TotalSeconds) -ForegroundColor DarkGray
        if ($loadBefore) { $script:Loads.Add("$b`: load average $loadBefore before, $(Get-LoadAverage) after ($(F $clock.Elapsed.TotalSeconds '0') s)") }
    }
}
finally {
    if (Test-Path $script:StateRoot) { Remove-Item $script:StateRoot -Recurse -Force -ErrorAction SilentlyContinue }
}

# ---------------------------------------------------------------- report

function Get-MachineInfo {
    $os = [System.Runtime.InteropServices.RuntimeInformation]::OSDescription
    $cpu = ''
    if (Test-Path /proc/cpuinfo) { $cpu = (Select-String -Path /proc/cpuinfo -Pattern '^model name\s*:\s*(.+)$' | Select-Object -First 1).Matches.Groups[1].Value }
    $ram = [System.GC]::GetGCMemoryInfo().TotalAvailableMemoryBytes
    [ordered]@{
        Cores  = [Environment]::ProcessorCount
        CPU    = $(if ($cpu) { $cpu } else { [System.Runtime.InteropServices.RuntimeInformation]::ProcessArchitecture })
        RAM    = '{0:0.0} GB' -f ($ram / 1GB)
        OS     = $os
        '.NET' = [System.Runtime.InteropServices.RuntimeInformation]::FrameworkDescription
        pwsh   = "$($PSVersionTable.PSVersion)"
        Module = "$((Import-PowerShellDataFile $ModulePath).ModuleVersion) (built $builtModulePath, run from a copy in out/bench/snapshot)"
        Date   = (Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm:ss') + ' UTC'
    }
}

$machine = Get-MachineInfo
$script:Rows | Format-Table -AutoSize | Out-String -Width 300 | Out-Host
$failed = @($script:Rows | Where-Object { $_.Pass -notin 'yes', 'info' })
Write-Host ("{0} of {1} checks met their target; total {2:0} s." -f ($script:Rows.Count - $failed.Count), $script:Rows.Count, $total.Elapsed.TotalSeconds) -ForegroundColor $(if ($failed) { 'Yellow' } else { 'Green' })

$md = [System.Text.StringBuilder]::new()
$null = $md.AppendLine('# CalStudio benchmarks').AppendLine()
$null = $md.AppendLine("Filter: ``$Filter``; total $(F $total.Elapsed.TotalSeconds '0') s. Produced by ``bench/Run-Benchmarks.ps1`` (``dotnet pwsh ./build.ps1 -Bench``).").AppendLine()
$null = $md.AppendLine('| Benchmark | Module | Baseline | Ratio | Target | Pass |').AppendLine('|---|---|---|---|---|---|')
foreach ($r in $script:Rows) {
    $cells = foreach ($c in $r.Benchmark, $r.Module, $r.Baseline, $r.Ratio, $r.Target, $r.Pass) { ([string]$c).Replace('|', '\|') }
    $null = $md.AppendLine('| ' + ($cells -join ' | ') + ' |')
}
$null = $md.AppendLine().AppendLine('## Machine').AppendLine()
foreach ($k in $machine.Keys) { $null = $md.AppendLine("- $k`: $($machine[$k])") }
foreach ($l in $script:Loads) { $null = $md.AppendLine("- $l") }
$null = $md.AppendLine().AppendLine('## Details').AppendLine()
foreach ($n in $script:Notes) { $null = $md.AppendLine("- $n") }
$resultsFile = Join-Path $outDir 'results.md'
Set-Content -Path $resultsFile -Value $md.ToString() -Encoding utf8
Write-Host "Results written to $resultsFile" -ForegroundColor Green
