<#
Helpers every benchmark scenario shares: the result table, child pwsh runs, emulators, state folders.
Dot-sourced by Run-Benchmarks.ps1 into its script scope, before the scenarios in bench/scenarios/.
#>
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
    "& $(Q (Join-Path $script:BenchDir 'Measure-ModuleRun.ps1')) -ModulePath $(Q $ModulePath) $($parts -join ' ')"
}

function Start-BenchEmulator([string[]] $Arguments = @(), [string] $Key = 'cs_bench_key') {
    Start-CalStudioEmulator -ArgumentList $Arguments -Key $Key
}

function Build-HttpClientBaseline {
    $dll = Join-Path $outDir 'HttpClientBaseline/HttpClientBaseline.dll'
    $proj = Join-Path $script:BenchDir 'HttpClientBaseline/HttpClientBaseline.csproj'
    dotnet build $proj -c Release -o (Join-Path $outDir 'HttpClientBaseline') --nologo -v quiet | Out-Host
    if ($LASTEXITCODE -ne 0 -or -not (Test-Path $dll)) { throw "Building $proj failed (exit $LASTEXITCODE)." }
    $dll
}
