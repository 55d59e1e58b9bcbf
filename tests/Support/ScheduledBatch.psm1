# Runs samples/Invoke-CalStudioScheduledBatch.ps1 as a scheduled task does, and makes its inputs and finds its
# outputs, for the suites that test the task script. Start-PwshProcess comes from Emulator.psm1, which the suites
# import first.
Set-StrictMode -Version Latest

$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:BatchScript = Join-Path $script:RepoRoot 'samples/Invoke-CalStudioScheduledBatch.ps1'
$script:ModulePath = Join-Path $script:RepoRoot 'out/CalStudio/CalStudio.psd1'

function Start-BatchScript {
    <#
    .SYNOPSIS
    Starts the script as a scheduled task does: a separate, non-interactive pwsh with -File and the key in its
    environment, importing the built module. Returns the process and its output as it is read.
    #>
    [CmdletBinding()]
    param([string[]] $Arguments = @(), [hashtable] $Environment = @{})
    # Nothing inherited decides the key: each test says which one the task has (or that it has none).
    $childEnvironment = @{ CALSTUDIO_API_KEY = '' }
    foreach ($k in $Environment.Keys) { $childEnvironment[$k] = $Environment[$k] }
    $p = Start-PwshProcess -File $script:BatchScript -ArgumentList (@('-ModulePath', $script:ModulePath) + $Arguments) -Environment $childEnvironment
    [pscustomobject]@{ Process = $p; Output = $p.StandardOutput.ReadToEndAsync(); ErrorOutput = $p.StandardError.ReadToEndAsync() }
}

function Wait-BatchScript {
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Run)
    if (-not $Run.Process.WaitForExit(120000)) { $Run.Process.Kill($true); throw 'The batch script did not finish within 120 s.' }
    $Run.Process.WaitForExit()
    [pscustomobject]@{ ExitCode = $Run.Process.ExitCode; Output = $Run.Output.Result; ErrorOutput = $Run.ErrorOutput.Result }
}

function Invoke-BatchScript {
    [CmdletBinding()]
    param([string[]] $Arguments = @(), [hashtable] $Environment = @{})
    Wait-BatchScript (Start-BatchScript -Arguments $Arguments -Environment $Environment)
}

# A CSV with Id (Q1, Q2, ...), Prompt and Owner columns, one row per prompt; returns its path.
function New-InputCsv([string] $folder, [string[]] $prompts, [string] $name = 'in') {
    $null = New-Item -ItemType Directory $folder -Force
    $path = Join-Path $folder "$name.csv"
    $i = 0
    $prompts | ForEach-Object { $i++; [pscustomobject]@{ Id = "Q$i"; Prompt = $_; Owner = "team $i" } } |
        Export-Csv $path -NoTypeInformation -Encoding utf8
    $path
}

# A helpdesk export as admins have them: no Prompt column.
function New-TicketCsv([string] $folder, [int] $count) {
    $null = New-Item -ItemType Directory $folder -Force
    $path = Join-Path $folder 'tickets.csv'
    1..$count | ForEach-Object { [pscustomobject]@{ Id = "T$_"; Subject = "subject $_"; Body = "body $_"; Owner = "owner $_" } } |
        Export-Csv $path -NoTypeInformation -Encoding utf8
    $path
}

# The script's files for an input are named after it: <input>.answers.csv, .journal.jsonl, .errors.log.
function Get-OutputFile([string] $folder, [string] $inputName, [string] $kind) {
    $path = Join-Path $folder "$inputName.$kind"
    if (Test-Path $path) { Get-Item $path }
}

Export-ModuleMember -Function Start-BatchScript, Wait-BatchScript, Invoke-BatchScript, New-InputCsv, New-TicketCsv, Get-OutputFile
