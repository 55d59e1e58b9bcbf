# Benchmark scenario, dot-sourced by bench/Run-Benchmarks.ps1 (helpers: bench/BenchSupport.ps1).

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
