# Benchmark scenario, dot-sourced by bench/Run-Benchmarks.ps1 (helpers: bench/BenchSupport.ps1).

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
