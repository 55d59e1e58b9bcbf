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

# Its own key for each emulator a test starts, so the shared budget state of one test never paces another.
function New-CalStudioTestKey { "cs_test_$([guid]::NewGuid().ToString('N'))" }

# Connect-CalStudio to this emulator with its key; other Connect-CalStudio parameters (AppName, limits) pass through.
function Connect-CalStudioEmulator {
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Emulator, [hashtable] $Parameters = @{})
    Connect-CalStudio -ApiKey (ConvertTo-SecureString $Emulator.Key -AsPlainText -Force) -BaseUri $Emulator.Uri @Parameters
}

function Get-CalStudioEmulatorRequestCount {
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Emulator)
    (Get-CalStudioEmulatorStats $Emulator -NoPrompts).requests
}

# Waits (not asserts) until the emulator has this many requests in flight: the client is then past its checks.
function Wait-CalStudioEmulatorInFlight {
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Emulator, [Parameter(Mandatory)] [int] $Count, [int] $TimeoutSec = 90)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ((Get-CalStudioEmulatorStats $Emulator -NoPrompts).inFlight -lt $Count) {
        if ([DateTime]::UtcNow -gt $deadline) { throw "The emulator never had $Count requests in flight." }
        Start-Sleep -Milliseconds 100
    }
}

function Reset-CalStudioEmulator {
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Emulator, [switch] $DayOnly)
    $path = if ($DayOnly) { 'reset-day' } else { 'reset' }
    $null = Invoke-RestMethod -Method Post -Uri "$($Emulator.Uri.AbsoluteUri.TrimEnd('/'))/_emulator/$path" -NoProxy
}

Export-ModuleMember -Function Start-CalStudioEmulator, Stop-CalStudioEmulator, Get-CalStudioEmulatorStats, Get-CalStudioEmulatorRequests,
    Reset-CalStudioEmulator, New-CalStudioTestKey, Connect-CalStudioEmulator, Get-CalStudioEmulatorRequestCount, Wait-CalStudioEmulatorInFlight

function Start-PwshProcess {
    <#
    .SYNOPSIS
    Runs a script in a separate pwsh process (as a second scheduled task would), returning the Process with its output redirected.
    .DESCRIPTION
    -Script runs a command string (pwsh -Command); -File runs a script file with -ArgumentList (pwsh -File, as Task
    Scheduler and cron do). The process is pwsh itself (dotnet running pwsh.dll under `dotnet pwsh`), so a signal sent
    to it reaches PowerShell.
    #>
    [CmdletBinding(DefaultParameterSetName = 'Script')]
    param(
        [Parameter(Mandatory, ParameterSetName = 'Script')][string] $Script,
        [Parameter(Mandatory, ParameterSetName = 'File')][string] $File,
        [Parameter(ParameterSetName = 'File')][string[]] $ArgumentList = @(),
        [hashtable] $Environment = @{}
    )
    $self = (Get-Process -Id $PID).Path
    $psi = [System.Diagnostics.ProcessStartInfo]::new($self)
    if ($self -match 'dotnet(\.exe)?$') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
    $run = if ($PSCmdlet.ParameterSetName -eq 'File') { @('-File', $File) + $ArgumentList } else { '-Command', $Script }
    foreach ($a in @('-NoProfile', '-NonInteractive') + $run) { $psi.ArgumentList.Add([string]$a) }
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    [System.Diagnostics.Process]::Start($psi)
}
Export-ModuleMember -Function Start-PwshProcess
