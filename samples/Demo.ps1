<#
.SYNOPSIS
The README's demo: starts the local emulator, runs samples/prompts.csv through Invoke-CalStudioPrompt, shows the
table, writes out/demo/answers.csv, and stops the emulator. No key or network needed.
#>
param([Parameter(Mandatory)][string] $ModulePath)

$ErrorActionPreference = 'Stop'
$root = Resolve-Path (Join-Path $PSScriptRoot '..')
Import-Module (Join-Path $root 'tests/Support/Emulator.psm1') -Force
Import-Module $ModulePath -Force

$emulator = Start-CalStudioEmulator -ArgumentList '--latency-ms', '50-300'
try {
    Write-Host "Emulator listening on $($emulator.Uri)" -ForegroundColor Cyan
    # The key as a scheduled task would give it: from the environment, never typed into the script.
    $env:CALSTUDIO_API_KEY = $emulator.Key
    Connect-CalStudio -BaseUri $emulator.Uri -AppName 'demo-assistant'
    Remove-Item Env:CALSTUDIO_API_KEY

    $outDir = Join-Path $root 'out/demo'
    $null = New-Item -ItemType Directory $outDir -Force
    $answers = Join-Path $outDir 'answers.csv'

    $results = Import-Csv (Join-Path $PSScriptRoot 'prompts.csv') | Invoke-CalStudioPrompt -ThrottleLimit 4
    $results | Format-Table Id, Success, Attempts, Message -AutoSize -Wrap | Out-Host
    $results | Export-Csv $answers -NoTypeInformation -Encoding utf8
    Write-Host "$(@($results).Count) answers written to $answers" -ForegroundColor Green
    Get-CalStudioConnection | Format-List BaseUri, AppName, KeyHint, TimeoutSec | Out-Host
}
finally {
    Disconnect-CalStudio
    $emulator | Stop-CalStudioEmulator
}
