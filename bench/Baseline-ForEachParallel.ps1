<#
.SYNOPSIS
Baseline: the usual PowerShell 7 way to send prompts concurrently - ForEach-Object -Parallel around Invoke-RestMethod.
.EXAMPLE
./bench/Baseline-ForEachParallel.ps1 -Uri http://127.0.0.1:5000/ -Key cs_test_key_1 -Count 400 -ThrottleLimit 16
#>
param(
    [Parameter(Mandatory)][uri] $Uri,
    [Parameter(Mandatory)][string] $Key,
    [int] $Count = 400,
    [int] $ThrottleLimit = 16,
    [string] $AppName = 'bench',
    [string] $Prefix = 'par-'
)
$endpoint = $Uri.AbsoluteUri.TrimEnd('/') + '/getbackResponse'
$clock = [System.Diagnostics.Stopwatch]::StartNew()
$answers = 1..$Count | ForEach-Object -ThrottleLimit $ThrottleLimit -Parallel {
    $body = @{ prompt = "$($using:Prefix)$_"; apiKey = $using:Key; appName = $using:AppName } | ConvertTo-Json -Compress
    Invoke-RestMethod -Method Post -Uri $using:endpoint -Body $body -ContentType 'application/json; charset=utf-8' -NoProxy
}
$clock.Stop()
[pscustomobject]@{
    Count     = $Count
    Answered  = @($answers | Where-Object success).Count
    Seconds   = $clock.Elapsed.TotalSeconds
    PerSecond = $Count / $clock.Elapsed.TotalSeconds
}
