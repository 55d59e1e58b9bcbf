# Starts and stops the local CalStudio API emulator (out/emulator) for tests, the demo and benchmarks.
Set-StrictMode -Version Latest

$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path

function Start-CalStudioEmulator {
    <#
    .SYNOPSIS
    Starts the emulator on a free loopback port and returns @{ Uri; Process; Key }; arguments go to its command line.
    #>
    [CmdletBinding()]
    param(
        [string[]] $ArgumentList = @(),
        [string] $Key = 'cs_test_key_1'
    )
    $dll = Join-Path $script:RepoRoot 'out/emulator/CalStudio.Emulator.dll'
    if (-not (Test-Path $dll)) { throw "The emulator is not built ($dll); run ./build.ps1 first." }
    $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in @($dll, '--port', '0', '--key', $Key, '--exit-on-stdin-eof') + $ArgumentList) { $psi.ArgumentList.Add([string]$a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    $readLine = $process.StandardOutput.ReadLineAsync()
    if (-not $readLine.Wait(30000) -or -not $readLine.Result) {
        $process.Kill($true)
        throw "The emulator did not start: $($process.StandardError.ReadToEnd())"
    }
    if ($readLine.Result -notmatch '(https?://\S+)') { throw "Unexpected first line from the emulator: $($readLine.Result)" }
    [pscustomobject]@{ Uri = [uri]$Matches[1]; Process = $process; Key = $Key }
}

function Stop-CalStudioEmulator {
    [CmdletBinding()]
    param([Parameter(Mandatory, ValueFromPipeline)] $Emulator)
    process {
        if ($null -eq $Emulator -or $Emulator.Process.HasExited) { return }
        try { $Emulator.Process.StandardInput.Close() } catch { }
        if (-not $Emulator.Process.WaitForExit(5000)) { $Emulator.Process.Kill($true) }
        $Emulator.Process.Dispose()
    }
}

function Get-CalStudioEmulatorStats {
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Emulator, [switch] $NoPrompts)
    $query = if ($NoPrompts) { '?prompts=false' } else { '' }
    Invoke-RestMethod -Uri "$($Emulator.Uri.AbsoluteUri.TrimEnd('/'))/_emulator/stats$query" -NoProxy
}

function Get-CalStudioEmulatorRequests {
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Emulator, [int] $Last = 20)
    Invoke-RestMethod -Uri "$($Emulator.Uri.AbsoluteUri.TrimEnd('/'))/_emulator/requests?last=$Last" -NoProxy
}

function Reset-CalStudioEmulator {
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Emulator, [switch] $DayOnly)
    $path = if ($DayOnly) { 'reset-day' } else { 'reset' }
    $null = Invoke-RestMethod -Method Post -Uri "$($Emulator.Uri.AbsoluteUri.TrimEnd('/'))/_emulator/$path" -NoProxy
}

Export-ModuleMember -Function Start-CalStudioEmulator, Stop-CalStudioEmulator, Get-CalStudioEmulatorStats, Get-CalStudioEmulatorRequests, Reset-CalStudioEmulator

function Start-PwshProcess {
    <#
    .SYNOPSIS
    Runs a script in a separate pwsh process (as a second scheduled task would), returning the Process with its output redirected.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][string] $Script, [hashtable] $Environment = @{})
    $self = (Get-Process -Id $PID).Path
    $psi = [System.Diagnostics.ProcessStartInfo]::new($self)
    if ($self -match 'dotnet(\.exe)?$') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
    foreach ($a in '-NoProfile', '-NonInteractive', '-Command', $Script) { $psi.ArgumentList.Add($a) }
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    [System.Diagnostics.Process]::Start($psi)
}
Export-ModuleMember -Function Start-PwshProcess
