<#
.SYNOPSIS
Child-process workload for Run-Benchmarks.ps1: streams -Count prompts through Invoke-CalStudioPrompt without
collecting the output, then reports the process's peak working set. -Count 0 is the idle module (import + connect).
#>
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [Parameter(Mandatory)][uri] $Uri,
    [Parameter(Mandatory)][string] $Key,
    [int] $Count = 0,
    [int] $ThrottleLimit = 16
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
Connect-CalStudio -ApiKey (ConvertTo-SecureString $Key -AsPlainText -Force) -BaseUri $Uri -AppName bench
$answered = 0
$clock = [System.Diagnostics.Stopwatch]::StartNew()
if ($Count -gt 0) {
    1..$Count | ForEach-Object { "p$_" } | Invoke-CalStudioPrompt -ThrottleLimit $ThrottleLimit | ForEach-Object { $answered++ }
} else {
    Start-Sleep -Milliseconds 500
}
$clock.Stop()
$self = [System.Diagnostics.Process]::GetCurrentProcess()
[pscustomobject]@{
    Count          = $Count
    Answered       = $answered
    Seconds        = $clock.Elapsed.TotalSeconds
    PeakWorkingSet = $self.PeakWorkingSet64
    WorkingSet     = $self.WorkingSet64
    GcHeapBytes    = [GC]::GetTotalMemory($false)
    GcCount2       = [GC]::CollectionCount(2)
}
