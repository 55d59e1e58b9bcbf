<#
journal-fsync: what keeping a journal costs now that its lines reach the disk (fsync) about once a second and at every
stop. One fresh pwsh, warmed first, alternates runs of the same prompts without and with -JournalPath (a new journal
each time, in the bench's state folder on the real disk), so both sides see the same load; the median rows/s of each
side are compared as a ratio.
#>
function Invoke-JournalFsyncBenchmark {
    $name = 'journal-fsync'
    $count = 4000; $throttle = 16; $repeat = 3
    $emu = Start-BenchEmulator
    try {
        $folder = New-StateDir 'journal-fsync'
        $script = @"
Import-Module $(Q $ModulePath)
Connect-CalStudio -ApiKey (ConvertTo-SecureString $(Q $emu.Key) -AsPlainText -Force) -BaseUri $(Q $emu.Uri.AbsoluteUri) -AppName bench
function Rows([string] `$tag) { 1..$count | ForEach-Object { [pscustomobject]@{ Id = `$_; Prompt = "`$tag `$_" } } }
function RowsPerSecond([object[]] `$rows, [hashtable] `$journal) {
    `$clock = [Diagnostics.Stopwatch]::StartNew()
    `$answered = @(`$rows | Invoke-CalStudioPrompt -ThrottleLimit $throttle @journal | Where-Object Success).Count
    if (`$answered -ne `$rows.Count) { throw "answered `$answered of `$(`$rows.Count)" }
    `$rows.Count / `$clock.Elapsed.TotalSeconds
}
`$null = RowsPerSecond (Rows 'warm-a') @{}
`$null = RowsPerSecond (Rows 'warm-b') @{ JournalPath = $(Q (Join-Path $folder 'warm.jsonl')); KeyProperty = 'Id' }
foreach (`$rep in 1..$repeat) {
    [pscustomobject]@{
        Without = RowsPerSecond (Rows "plain-`$rep") @{}
        With    = RowsPerSecond (Rows "journal-`$rep") @{ JournalPath = (Join-Path $(Q $folder) "run-`$rep.jsonl"); KeyProperty = 'Id' }
    }
}
"@
        $run = Invoke-BenchChild -TimeoutSec 600 -Script $script
        $without = Get-Median @($run.Results | ForEach-Object { [double]$_.Without })
        $with = Get-Median @($run.Results | ForEach-Object { [double]$_.With })
        Add-Row "$name journal vs none" "$(F $with '0') rows/s with -JournalPath" "$(F $without '0') rows/s without" ($with / $without) '>= 0.7x' ($with / $without -ge 0.7)
        Add-Note $name ("$count prompts, ThrottleLimit $throttle, zero latency, $repeat alternating pairs in one warmed pwsh (median shown); journal on the bench state folder's disk, fsynced about once a second and at the end. Rows/s without: {0}; with: {1}." -f
            (($run.Results | ForEach-Object { F ([double]$_.Without) '0' }) -join ', '), (($run.Results | ForEach-Object { F ([double]$_.With) '0' }) -join ', '))
    }
    finally { $emu | Stop-CalStudioEmulator }
}
