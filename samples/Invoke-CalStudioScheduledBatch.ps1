<#
.SYNOPSIS
Answers a CSV file of prompts with CalStudio as an unattended job (Windows Task Scheduler or cron), with a dated
answers CSV, a resumable journal, an error log and an exit code that says how the run went.

.DESCRIPTION
Reads -InputCsv, sends each row's Prompt (or Question, Text, Input) column to CalStudio with Invoke-CalStudioPrompt
and writes, in -OutputFolder, for the day of the run (yyyyMMdd, local time, fixed when the run starts):

  answers-yyyyMMdd.csv   every row that finished, in input order: the input columns first, then Message, Success,
                         StatusCode, ErrorId, ErrorMessage, Attempts, RequestId, CompletedAt and FromJournal.
                         Failed rows are included with Success False and their ErrorId.
  journal-yyyyMMdd.jsonl the module's journal. A rerun on the same day (after a crash, a reboot or the daily cap)
                         sends only the rows not yet answered, reads the others from the journal and rewrites the
                         complete CSV. Failed rows are sent again.
  errors-yyyyMMdd.log    one line per failed row (row number, key column, ErrorId, message) and the reason of a run
                         that stopped early; appended to, one block per run.

The key is never in the script or on its command line: it comes from the environment variable CALSTUDIO_API_KEY of
the account that runs the job or, with -SecretName, from a SecretManagement vault (Get-Secret).

Exit codes (see Get-BatchExitCode below):
  0  every row was answered
  1  the run finished but some rows failed (see errors-yyyyMMdd.log); a rerun sends them again
  2  the daily quota is spent (DailyQuotaExhausted); rerun after the reset to finish the day's file
  3  nothing could be done: no key, the key was rejected (ApiKeyRejected), the module or the CSV could not be
     loaded, a journal mismatch, or any other fatal error

.PARAMETER InputCsv
The CSV file of prompts: a Prompt column, optional AppName and FileUrl columns, and any other columns (such as Id),
which are kept in the output.

.PARAMETER OutputFolder
Where the dated answers CSV, journal and error log go. Created when missing.

.PARAMETER AppName
The CalStudio app for rows whose AppName column is empty or missing.

.PARAMETER BaseUri
The API address (default: the module's, https://calstudio.com). Plain http only to a loopback address (the local
emulator).

.PARAMETER KeyProperty
A column (such as Id) that identifies each row in the journal; without it rows are matched by a hash of AppName,
Prompt and FileUrl. Keep it the same for every run of a day.

.PARAMETER SecretName
Read the key from SecretManagement (Get-Secret -Name <SecretName>) instead of CALSTUDIO_API_KEY.

.PARAMETER SecretVault
The vault to read -SecretName from (default: the account's default vault).

.PARAMETER ThrottleLimit
Requests in flight at once (default: the module's, 4).

.PARAMETER Plan
The CalStudio plan (such as Free or Lite), so requests are paced to its per-minute and per-day limits.

.PARAMETER ModulePath
Import the CalStudio module from this path (a .psd1 or module folder) instead of by name from PSModulePath.

.EXAMPLE
pwsh -NonInteractive -NoProfile -File C:\jobs\Invoke-CalStudioScheduledBatch.ps1 -InputCsv C:\jobs\questions.csv -OutputFolder C:\jobs\out -AppName support-bot -KeyProperty Id

A run by hand, as the task would run it. Writes C:\jobs\out\answers-<today>.csv; $LASTEXITCODE is 0, 1, 2 or 3.

.EXAMPLE
# Windows Task Scheduler, run once as the account the task uses (an elevated prompt for a machine-wide key).
# The key for that account only (a user environment variable, read when the task starts):
[Environment]::SetEnvironmentVariable('CALSTUDIO_API_KEY', (Read-Host 'CalStudio key'), 'User')
#   or for every account on the machine: [Environment]::SetEnvironmentVariable('CALSTUDIO_API_KEY', '<key>', 'Machine')

$action = New-ScheduledTaskAction -Execute 'pwsh.exe' -WorkingDirectory 'C:\jobs' -Argument (
    '-NonInteractive -NoProfile -File "C:\jobs\Invoke-CalStudioScheduledBatch.ps1" ' +
    '-InputCsv "C:\jobs\questions.csv" -OutputFolder "C:\jobs\out" -AppName support-bot -KeyProperty Id -Plan Lite')
$triggers = @(
    New-ScheduledTaskTrigger -Daily -At 02:00
    # A second run later the same day finishes what the daily cap or a failure left over (it resumes from the journal).
    New-ScheduledTaskTrigger -Daily -At 14:00
)
$settings = New-ScheduledTaskSettingsSet -StartWhenAvailable -ExecutionTimeLimit (New-TimeSpan -Hours 8) -MultipleInstances IgnoreNew
Register-ScheduledTask -TaskName 'CalStudio daily batch' -Action $action -Trigger $triggers -Settings $settings `
    -User "$env:USERDOMAIN\svc-calstudio" -Password (Read-Host 'Password of svc-calstudio') -RunLevel Limited

The task runs pwsh.exe non-interactively as svc-calstudio, whose user environment holds CALSTUDIO_API_KEY. Task
Scheduler shows the script's exit code as the task's "Last Run Result" (0x0 all answered, 0x1 some rows failed, 0x2
daily cap reached, 0x3 fatal).

.EXAMPLE
schtasks /Create /TN "CalStudio daily batch" /SC DAILY /ST 02:00 /RU svc-calstudio /RP * /TR "pwsh.exe -NonInteractive -NoProfile -File C:\jobs\Invoke-CalStudioScheduledBatch.ps1 -InputCsv C:\jobs\questions.csv -OutputFolder C:\jobs\out -AppName support-bot -KeyProperty Id"

The same task with schtasks.exe (it asks for the account's password).

.EXAMPLE
# Once, as the task's account (for example: runas /user:svc-calstudio pwsh), keep the key in a SecretManagement vault:
Install-Module Microsoft.PowerShell.SecretManagement, Microsoft.PowerShell.SecretStore -Scope CurrentUser
Register-SecretVault -Name CalStudioVault -ModuleName Microsoft.PowerShell.SecretStore -DefaultVault
# A task cannot type a vault password: let the store open without one (its files are readable by this account only).
Set-SecretStoreConfiguration -Scope CurrentUser -Authentication None -Interaction None
Set-Secret -Name CalStudio -Secret (Read-Host 'CalStudio key' -AsSecureString)

# The task's arguments then name the secret instead of relying on CALSTUDIO_API_KEY:
#   -NonInteractive -NoProfile -File C:\jobs\Invoke-CalStudioScheduledBatch.ps1 -InputCsv C:\jobs\questions.csv -OutputFolder C:\jobs\out -SecretName CalStudio

The key is stored encrypted for that account only; the script calls Get-Secret -Name CalStudio at run time.

.EXAMPLE
# crontab -e (Linux, macOS); see samples/crontab.example for the full file.
30 2 * * * . "$HOME/.config/calstudio/key.env" && pwsh -NonInteractive -NoProfile -File /opt/calstudio/Invoke-CalStudioScheduledBatch.ps1 -InputCsv /srv/calstudio/questions.csv -OutputFolder /srv/calstudio/out -AppName support-bot -KeyProperty Id >> /srv/calstudio/out/cron.log 2>&1

key.env (chmod 600) holds "export CALSTUDIO_API_KEY=...", so the key is in neither the crontab nor the script.

.NOTES
Run it with -NonInteractive: the module then never waits for a typed key and draws no progress bar.
Written for Windows PowerShell 5.1 and PowerShell 7 (tests run it under PowerShell 7).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $InputCsv,
    [Parameter(Mandatory)] [string] $OutputFolder,
    [string] $AppName,
    [uri] $BaseUri,
    [string] $KeyProperty,
    [string] $SecretName,
    [string] $SecretVault,
    [ValidateRange(1, 256)] [int] $ThrottleLimit,
    [string] $Plan,
    [string] $ModulePath
)

# ---- The exit code: the one decision a scheduler acts on -------------------------------------------------------
function Get-BatchExitCode {
    param(
        # The error that stopped the run, if one did.
        [System.Management.Automation.ErrorRecord] $Fatal,
        # Rows that finished with an error.
        [int] $FailedRows
    )
    if ($Fatal) {
        if ($Fatal.FullyQualifiedErrorId -like 'DailyQuotaExhausted*') { return 2 }  # rerun after the quota resets
        return 3                                                                     # no key, key rejected, anything else
    }
    if ($FailedRows -gt 0) { return 1 }                                              # some rows failed
    return 0                                                                         # every row answered
}

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$day = Get-Date -Format 'yyyyMMdd'   # fixed at the start, so a run across midnight keeps one set of files
$rowTag = '__CalStudioScheduledBatchRow'
$responseColumns = 'Message', 'Success', 'StatusCode', 'ErrorId', 'ErrorMessage', 'Attempts', 'RequestId', 'CompletedAt', 'FromJournal'
$fatal = $null
$failedRows = 0
$logLines = [System.Collections.Generic.List[string]]::new()
$connected = $false
$errorsPath = $null
$journalPath = $null

function Write-Log([string] $line) {
    $logLines.Add(('{0:yyyy-MM-dd HH:mm:ss} {1}' -f (Get-Date), $line))
}

try {
    $OutputFolder = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutputFolder)
    $null = New-Item -ItemType Directory -Path $OutputFolder -Force
    $answersPath = Join-Path $OutputFolder "answers-$day.csv"
    $journalPath = Join-Path $OutputFolder "journal-$day.jsonl"
    $errorsPath = Join-Path $OutputFolder "errors-$day.log"

    # The key: from a vault when asked, else from the account's environment. Never from the script itself.
    $apiKey = $null
    if ($SecretName) {
        if (-not (Get-Command Get-Secret -ErrorAction SilentlyContinue)) {
            throw "-SecretName needs the SecretManagement module (Install-Module Microsoft.PowerShell.SecretManagement) and a vault registered for this account."
        }
        $secretArgs = @{ Name = $SecretName }
        if ($SecretVault) { $secretArgs.Vault = $SecretVault }
        $secret = Get-Secret @secretArgs
        if ($secret -is [System.Security.SecureString]) { $apiKey = $secret }
        elseif ($secret -is [System.Management.Automation.PSCredential]) { $apiKey = $secret.Password }
        elseif ($secret -is [string] -and $secret) { $apiKey = ConvertTo-SecureString $secret -AsPlainText -Force }
        if ($null -eq $apiKey -or $apiKey.Length -eq 0) { throw "The secret '$SecretName' is empty or not a string, SecureString or PSCredential." }
    }
    elseif ([string]::IsNullOrWhiteSpace($env:CALSTUDIO_API_KEY)) {
        $e = [System.Management.Automation.ErrorRecord]::new(
            [System.InvalidOperationException]::new('No CalStudio API key: set the environment variable CALSTUDIO_API_KEY for the account that runs this job, or give -SecretName to read it from a SecretManagement vault.'),
            'NoApiKey', [System.Management.Automation.ErrorCategory]::AuthenticationError, $null)
        throw $e
    }

    if ($ModulePath) { Import-Module $ModulePath -ErrorAction Stop } else { Import-Module CalStudio -ErrorAction Stop }

    $rows = @(Import-Csv -LiteralPath $InputCsv)
    $inputColumns = @()
    if ($rows.Count -gt 0) { $inputColumns = @($rows[0].PSObject.Properties | Where-Object MemberType -eq 'NoteProperty' | ForEach-Object Name) }
    if ($KeyProperty -and $rows.Count -gt 0 -and $inputColumns -notcontains $KeyProperty) {
        throw "-KeyProperty '$KeyProperty' is not a column of $InputCsv (its columns: $($inputColumns -join ', '))."
    }
    $columns = @($inputColumns) + @($responseColumns | Where-Object { $inputColumns -notcontains $_ })
    # Each row carries its number through the module (it keeps a row's own columns), so answers and failures can be put back in input order.
    for ($i = 0; $i -lt $rows.Count; $i++) { $rows[$i] | Add-Member -NotePropertyName $rowTag -NotePropertyValue $i }

    $connect = @{}
    if ($apiKey) { $connect.ApiKey = $apiKey }
    if ($AppName) { $connect.AppName = $AppName }
    if ($BaseUri) { $connect.BaseUri = $BaseUri }
    if ($Plan) { $connect.Plan = $Plan }
    Connect-CalStudio @connect
    $connected = $true

    $invoke = @{ JournalPath = $journalPath; TotalCount = $rows.Count }
    if ($KeyProperty) { $invoke.KeyProperty = $KeyProperty }
    if ($PSBoundParameters.ContainsKey('ThrottleLimit')) { $invoke.ThrottleLimit = $ThrottleLimit }

    $slots = New-Object 'object[]' $rows.Count
    $rowErrors = $null
    try {
        $rows | Invoke-CalStudioPrompt @invoke -ErrorAction SilentlyContinue -ErrorVariable rowErrors |
            ForEach-Object { $slots[[int]$_.$rowTag] = $_ | Select-Object -Property $columns }
    }
    catch {
        # DailyQuotaExhausted or ApiKeyRejected stop the whole batch; the rows answered before it are in $slots and the journal.
        $fatal = $_
    }

    foreach ($item in @($rowErrors)) {
        # -ErrorVariable holds ErrorRecords, and exceptions for errors that were thrown.
        $err = if ($item -is [System.Management.Automation.IContainsErrorRecord]) { $item.ErrorRecord } else { $item }
        if ($err -isnot [System.Management.Automation.ErrorRecord]) { continue }
        # The error that stopped the batch is also in -ErrorVariable: it is not a failed row.
        if ($null -eq $err -or ($fatal -and $err.FullyQualifiedErrorId -eq $fatal.FullyQualifiedErrorId)) { continue }
        $row = $err.TargetObject
        $errorId = ($err.FullyQualifiedErrorId -split ',')[0]
        if ($row -is [psobject] -and $row.PSObject.Properties[$rowTag]) {
            $n = [int]$row.$rowTag
            $failed = [ordered]@{}
            foreach ($c in $columns) { $failed[$c] = if ($inputColumns -contains $c) { $row.$c } else { $null } }
            $failed.Success = $false
            $failed.ErrorId = $errorId
            $failed.ErrorMessage = $err.Exception.Message
            $failed.FromJournal = $false
            $slots[$n] = [pscustomobject]$failed
            $key = if ($KeyProperty) { " $KeyProperty=$($row.$KeyProperty)" } else { '' }
            Write-Log "Row $($n + 1)$key failed: [$errorId] $($err.Exception.Message)"
        }
        else {
            Write-Log "Error: [$errorId] $($err.Exception.Message)"
        }
        $failedRows++
    }

    # The whole day's file, rewritten each run (through a temporary file, so a reader never sees half of it).
    $done = @($slots | Where-Object { $null -ne $_ })
    $temp = "$answersPath.tmp"
    if ($done.Count -gt 0) { $done | Export-Csv -LiteralPath $temp -NoTypeInformation -Encoding UTF8 }
    else { Set-Content -LiteralPath $temp -Value (($columns | ForEach-Object { '"' + ($_ -replace '"', '""') + '"' }) -join ',') -Encoding UTF8 }
    Move-Item -LiteralPath $temp -Destination $answersPath -Force

    $answered = @($done | Where-Object { $_.Success -eq $true }).Count
    $fromJournal = @($done | Where-Object { $_.FromJournal -eq $true }).Count
    Write-Output ("CalStudio batch {0}: {1} rows, {2} answered ({3} from the journal), {4} failed, {5} not done; answers in {6}" -f
        $day, $rows.Count, $answered, $fromJournal, $failedRows, ($rows.Count - $done.Count), $answersPath)
}
catch {
    $fatal = $_
}
finally {
    if ($connected) { try { Disconnect-CalStudio } catch { } }
}

if ($fatal) {
    $fatalId = ($fatal.FullyQualifiedErrorId -split ',')[0]
    $reason = $fatal.Exception.Message
    if ($fatalId -eq 'DailyQuotaExhausted') {
        # The module's resume command is this script's inner pipeline; for a job, the resume is simply the next run.
        $reason = ($reason -replace '\s*To resume, run:[\s\S]*$', '') + " Run this job again after the reset: it resumes from $journalPath."
    }
    Write-Log "Stopped: [$fatalId] $reason"
    # On stderr, so Task Scheduler history, cron mail or a wrapper's log shows why.
    [Console]::Error.WriteLine("CalStudio batch stopped: [$fatalId] $reason")
}
if ($logLines.Count -gt 0) {
    try {
        if (-not $errorsPath) { $errorsPath = Join-Path $OutputFolder "errors-$day.log" }
        Add-Content -LiteralPath $errorsPath -Value $logLines -Encoding UTF8
    }
    catch { [Console]::Error.WriteLine("Could not write the error log: $($_.Exception.Message)") }
}

exit (Get-BatchExitCode -Fatal $fatal -FailedRows $failedRows)
