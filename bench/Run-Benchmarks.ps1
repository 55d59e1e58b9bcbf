<#
.SYNOPSIS
Benchmarks the built CalStudio module against the local emulator and against what a user would write without it.

.DESCRIPTION
Starts its own emulators (tests/Support/Emulator.psm1, loopback only), runs every workload in a fresh pwsh child
process (so memory, CPU and import time are the module's alone), prints a table and writes it as markdown, with
the machine, to out/bench/results.md. Each benchmark is one file in bench/scenarios/ (helpers they share:
bench/BenchSupport.ps1); this runner only runs them and tabulates. Benchmarks: latency200, zero-latency, memory, import, pacing, soak, journal-open, inflight,
scheme-fixed, scheme-sliding, scheme-bucket (rate-window schemes), two-process, limiters (rate limiters with and
without headers), journal-fsync and json-answers (CPU per row of -ResponseSchema against plain text).
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

# ---------------------------------------------------------------- helpers and scenarios

# One file per scenario in bench/scenarios/; this runner only runs them and tabulates.
$script:BenchDir = $PSScriptRoot
. (Join-Path $PSScriptRoot 'BenchSupport.ps1')
foreach ($scenario in Get-ChildItem (Join-Path $PSScriptRoot 'scenarios') -Filter *.ps1 | Sort-Object Name) { . $scenario.FullName }

# ---------------------------------------------------------------- run

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
    'limiters'       = ${function:Invoke-LimitersBenchmark}
    'journal-fsync'  = ${function:Invoke-JournalFsyncBenchmark}
    'json-answers'   = ${function:Invoke-JsonAnswersBenchmark}
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
