<#
.SYNOPSIS
Baseline: what a user writes without the module - one Invoke-RestMethod per prompt, one after another.
.EXAMPLE
./bench/Baseline-InvokeRestMethodLoop.ps1 -Uri http://127.0.0.1:5000/ -Key cs_test_key_1 -Count 1000
#>
param(
    [Parameter(Mandatory)][uri] $Uri,
    [Parameter(Mandatory)][string] $Key,
    [int] $Count = 1000,
    [string] $AppName = 'bench',
    [string] $Prefix = 'seq-'
)
$endpoint = $Uri.AbsoluteUri.TrimEnd('/') + '/getbackResponse'
$answered = 0
$clock = [System.Diagnostics.Stopwatch]::StartNew()
foreach ($i in 1..$Count) {
    $body = @{ prompt = "$Prefix$i"; apiKey = $Key; appName = $AppName } | ConvertTo-Json -Compress
    $answer = Invoke-RestMethod -Method Post -Uri $endpoint -Body $body -ContentType 'application/json; charset=utf-8' -NoProxy
    if ($answer.success) { $answered++ }
}
$clock.Stop()
[pscustomobject]@{
    Count     = $Count
    Answered  = $answered
    Seconds   = $clock.Elapsed.TotalSeconds
    PerSecond = $Count / $clock.Elapsed.TotalSeconds
}
