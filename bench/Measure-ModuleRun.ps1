<#
.SYNOPSIS
Child-process workload for Run-Benchmarks.ps1: sends -Count prompts through Invoke-CalStudioPrompt and reports
wall time, process CPU (with an idle run of the same wall time to subtract) and, with -CheckRows, how every row ended.
#>
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [Parameter(Mandatory)][uri] $Uri,
    [Parameter(Mandatory)][string] $Key,
    [int] $Count = 400,
    # 0: not given, so requests in flight follow the module's default (rate x latency when the rate is known).
    [int] $ThrottleLimit = 16,
    # Given to Connect-CalStudio when above 0 (the allowed rate the module may use); 0: pacing from the headers alone.
    [int] $RequestsPerMinute = 0,
    [double] $RetryDelaySec = -1,
    [string] $Prefix = 'mod-',
    [int] $WarmUp = 0,
    # The warm-up in this many batches per format (alternating formats): code that runs once per batch (binding, a
    # schema, a type registration) is promoted by tiered JIT only after about 30 calls, so one long warm-up batch
    # leaves that JIT work to fall into the measured runs.
    [int] $WarmUpBatches = 1,
    # Before each measured run (after its GC), wait until the JIT has been idle for this long (at most 10 s), so
    # tier-1 compiles queued by the script between runs finish outside the run instead of being charged to it.
    [int] $SettleMs = 0,
    # Where the warm-up prompts go (e.g. a zero-latency emulator, so tiering settles in seconds); default: -Uri.
    [uri] $WarmUpUri,
    [int] $TimeoutSec = 0,
    # Measured runs in this process, one result object each (after the warm-up, so JIT and tiering settle first).
    [int] $Repeat = 1,
    # The app the prompts go to, and with -ResponseSchema a JSON answer validated against that schema (a file or the text).
    [string] $AppName = 'bench',
    [string] $ResponseSchema,
    # Rows as Import-Csv gives them (TicketId, Owner, Prompt), not bare prompt strings.
    [switch] $AsRows,
    # Each repeat runs the rows twice in this process, as plain text and then with -ResponseSchema: a baseline in the
    # same process, alternating, so JIT tiering and GC state drift alike for both (each result says its Format).
    [switch] $CompareWithText,
    [switch] $MeasureIdleCpu,
    [switch] $CheckRows
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$connect = @{ ApiKey = (ConvertTo-SecureString $Key -AsPlainText -Force); BaseUri = $Uri; AppName = $AppName }
if ($TimeoutSec -gt 0) { $connect.TimeoutSec = $TimeoutSec }
if ($RequestsPerMinute -gt 0) { $connect.RequestsPerMinute = $RequestsPerMinute }
if ($RetryDelaySec -ge 0) { $connect.RetryDelaySec = $RetryDelaySec }
$invoke = if ($ThrottleLimit -gt 0) { @{ ThrottleLimit = $ThrottleLimit } } else { @{} }
$formats = if ($CompareWithText) { 'Text', 'Json' } elseif ($ResponseSchema) { , 'Json' } else { , 'Text' }
function Get-Invoke([string] $format) {
    $call = $invoke.Clone()
    if ($format -eq 'Json') { $call.ResponseSchema = $ResponseSchema }
    $call
}

function Get-Cpu { (Get-Process -Id $PID).TotalProcessorTime }

function Wait-JitIdle([int] $idleMs) {
    $limit = [System.Diagnostics.Stopwatch]::StartNew()
    do {
        $before = [System.Runtime.JitInfo]::GetCompilationTime($false)
        Start-Sleep -Milliseconds $idleMs
    } while (([System.Runtime.JitInfo]::GetCompilationTime($false) - $before).TotalMilliseconds -gt 1 -and $limit.ElapsedMilliseconds -lt 10000)
}

$warmCpuMs = 0
$warmSeconds = 0
if ($WarmUp -gt 0) {
    # JIT, the HTTP stack and connection pool are a one-off cost; the measured run starts warm.
    Connect-CalStudio @connect -BaseUri $(if ($WarmUpUri) { $WarmUpUri } else { $Uri })
    $c0 = Get-Cpu
    $warmClock = [System.Diagnostics.Stopwatch]::StartNew()
    $perBatch = [Math]::Max(1, [int]($WarmUp / $formats.Count / $WarmUpBatches))
    foreach ($batch in 1..$WarmUpBatches) {
        foreach ($format in $formats) {
            $call = Get-Invoke $format
            # Piped on as the measured runs are (Measure-Object), so that path is warm too.
            $null = 1..$perBatch | ForEach-Object { if ($AsRows) { [pscustomobject]@{ TicketId = "W-$batch-$_"; Owner = 'ana'; Prompt = "warm-$batch-$_" } } else { "warm-$batch-$_" } } |
                Invoke-CalStudioPrompt @call -ErrorAction SilentlyContinue | Measure-Object
        }
    }
    $warmSeconds = $warmClock.Elapsed.TotalSeconds
    $warmCpuMs = ((Get-Cpu) - $c0).TotalMilliseconds
}

Connect-CalStudio @connect

foreach ($rep in 1..$Repeat) {
    foreach ($format in $formats) {
        $call = Get-Invoke $format
        [string[]] $prompts = foreach ($i in 1..$Count) { "$Prefix$(if ($Repeat -gt 1) { "r$rep-" })$(if ($CompareWithText) { "$format-" })$i" }
        $inputs = if ($AsRows) { $n = 0; foreach ($p in $prompts) { [pscustomobject]@{ TicketId = 'T-' + ++$n; Owner = 'ana'; Prompt = $p } } } else { $prompts }
        $errs = $null
        [GC]::Collect()
        if ($SettleMs -gt 0) { Wait-JitIdle $SettleMs }
        $jit0 = [System.Runtime.JitInfo]::GetCompilationTime($false)
        $cpu0 = Get-Cpu
        $startedUnixMs = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds()
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        if ($CheckRows) {
            $answers = @($inputs | Invoke-CalStudioPrompt @call -ErrorAction SilentlyContinue -ErrorVariable errs)
        } else {
            $answers = $null
            $answered = ($inputs | Invoke-CalStudioPrompt @call -ErrorAction SilentlyContinue -ErrorVariable errs | Measure-Object).Count
        }
        $clock.Stop()
        $cpu1 = Get-Cpu
        # Time the JIT compiler spent in the run (all threads, wall clock): near 0 once tiering has settled.
        $jitMs = ([System.Runtime.JitInfo]::GetCompilationTime($false) - $jit0).TotalMilliseconds
        $wall = $clock.Elapsed

        $idleCpuMs = $null
        if ($MeasureIdleCpu) {
            # The same wall time doing nothing, measured the same way: what the process burns anyway (timers, GC, tiering).
            $i0 = Get-Cpu
            Start-Sleep -Milliseconds ([int]$wall.TotalMilliseconds)
            $idleCpuMs = ((Get-Cpu) - $i0).TotalMilliseconds
        }

        $result = [ordered]@{
            Format    = $format
            Count     = $Count
            Seconds   = $wall.TotalSeconds
            # Wall-clock span of the run, so runs in several processes can be measured together.
            StartedUnixMs = $startedUnixMs
            EndedUnixMs   = $startedUnixMs + [long]$wall.TotalMilliseconds
            CpuMs     = ($cpu1 - $cpu0).TotalMilliseconds
            JitMs     = $jitMs
            IdleCpuMs = $idleCpuMs
            WarmCpuMs = $warmCpuMs
            WarmSeconds = $warmSeconds
            Errors    = @($errs).Count
            InFlight  = (Get-CalStudioConnection).InFlightReason
            ErrorIds  = @($errs | Group-Object { $_.FullyQualifiedErrorId -replace ',.*$', '' } | ForEach-Object { "$($_.Name)=$($_.Count)" })
        }
        if ($CheckRows) {
            # Every row must end exactly once: one answer or one error, nothing missing or doubled.
            $seen = @{}
            foreach ($p in $prompts) { $seen[$p] = 0 }
            foreach ($a in $answers) { $seen[[string]$a.Prompt]++ }
            foreach ($e in $errs) { $t = $e.TargetObject; if ($t -is [psobject]) { $t = $t.BaseObject }; $seen[[string]$t]++ }
            $result.Answered = $answers.Count
            $result.Succeeded = @($answers | Where-Object Success).Count
            $result.RowsNotExactlyOnce = @($seen.GetEnumerator() | Where-Object Value -ne 1).Count
            $result.UnknownRows = $seen.Count - $prompts.Count
            $inOrder = $true
            for ($i = 1; $i -lt $answers.Count; $i++) {
                if ([int]($answers[$i].Prompt -replace '\D', '') -lt [int]($answers[$i - 1].Prompt -replace '\D', '')) { $inOrder = $false; break }
            }
            $result.InOrder = $inOrder
        } else {
            $result.Answered = $answered
            $result.Succeeded = $answered
        }
        [pscustomobject]$result
    }
}
