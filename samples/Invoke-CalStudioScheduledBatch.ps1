<#
.SYNOPSIS
Answers a CSV file of prompts with CalStudio as an unattended job (Windows Task Scheduler or cron): an answers CSV, a
resumable journal and an error log named after the input, and an exit code that says how the run went.

.DESCRIPTION
Sends each row's prompt (its Prompt, Question, Text or Input column, or -PromptTemplate filled from its columns) with
Invoke-CalStudioPrompt, and writes in -OutputFolder, for questions.csv:
  questions.answers.csv    every finished row in input order: the input columns, then the answer's (Message, Success,
                           ErrorId, ... and Prompt with -PromptTemplate). Rewritten whole by each run.
  questions.journal.jsonl  each run sends only the rows not yet answered (failed rows again), so a run stopped by the
                           daily cap, a crash or a reboot continues on the next run, on any day and in any time zone.
                           A new batch under the same file name continues it: give each batch its own name.
  questions.errors.log     each run adds a start line, one line per failed row (row, key, ErrorId, message), why it
                           stopped early (with the rows done), and an end line with the counts and the exit code.
  questions.lock           held while a run works on this input.

The key comes from CALSTUDIO_API_KEY in the environment of the account that runs the job or, with -SecretName, from a
SecretManagement vault; never from the script or its command line.

Exit codes (Task Scheduler's Last Run Result, 0x0 to 0x7; when several apply, 4, 5, 6, 2, 3 win over 7, and 7 over 1):
  0  every row was answered.
  1  some rows failed for a reason a rerun may fix (5xx, timeout, dropped connection, 403 or 404 for one app).
  7  some rows can never succeed as they are (an ErrorId of category InvalidArgument or InvalidData in about_CalStudio,
     such as InvalidPrompt, EmptyRowKey or ApiBadRequest): fix the input; a rerun as is fails them again.
  2  the daily quota is spent (DailyQuotaExhausted): the next run after the reset continues.
  3  fatal: no key or a rejected one, no CSV, no prompt column nor -PromptTemplate, a column the template or
     -KeyProperty names is missing, no module, or the journal cannot be written. All but a rejected key and the
     journal are found before any request is sent.
  4  stopped by Ctrl+C or, on Linux and macOS, SIGTERM (logged); the next run continues. Task Scheduler's "End" kills
     the process outright (as does SIGTERM to a job started with SIGINT ignored): no log line and no exit code, but
     the journal holds every answer received.
  5  another run is working on the same input; this run sent nothing.
  6  the API was unreachable (ApiUnreachable; logged with the rows done): check the network, proxy or -BaseUri.

.PARAMETER InputCsv
The CSV file of prompts: a Prompt (or Question, Text, Input) column or, with -PromptTemplate, any columns; optional
AppName and FileUrl columns; every column (such as Id) is kept in the output.

.PARAMETER OutputFolder
Where the answers CSV, journal, error log and lock file go. Created when missing.

.PARAMETER PromptTemplate
Builds each row's prompt from its columns: {Column} is replaced by the row's value ({{ and }} are literal braces),
such as 'Summarise this ticket. Subject: {Subject} Body: {Body}'. A column the CSV lacks is a fatal error (exit 3).

.PARAMETER AppName
The CalStudio app for rows whose AppName column is empty or missing.

.PARAMETER BaseUri
The API address (default: the module's, https://calstudio.com). Plain http only to a loopback address (the local
emulator).

.PARAMETER KeyProperty
A column (such as Id) that identifies each row in the journal, or several for a composite key, such as
-KeyProperty TicketId,AppName (on a pwsh -File command line, one comma-separated argument). Without it rows are
matched by a hash of AppName, prompt and FileUrl. Keep it the same for every run of an input. Rows with the same key
and the same prompt, app and file are sent once and each gets the answer. Rows with an empty key, or a key an earlier
row used for another prompt, are refused (EmptyRowKey, DuplicateRowKey) and logged on every run until the CSV is fixed.

.PARAMETER SecretName
Read the key from SecretManagement (Get-Secret -Name <SecretName>) instead of CALSTUDIO_API_KEY.

.PARAMETER SecretVault
The vault to read -SecretName from (default: the account's default vault).

.PARAMETER ThrottleLimit
The most requests in flight at once (default: the module's, 256, a ceiling: the module keeps about rate x latency
in flight, 4 while the rate is unknown).

.PARAMETER Plan
The CalStudio plan (such as Free or Lite), so requests are paced to its per-minute and per-day limits.

.PARAMETER ModulePath
Import the CalStudio module from this path (a .psd1 or module folder) instead of by name from PSModulePath.

.EXAMPLE
pwsh -NonInteractive -NoProfile -File C:\jobs\Invoke-CalStudioScheduledBatch.ps1 -InputCsv C:\jobs\questions.csv -OutputFolder C:\jobs\out -AppName support-bot -KeyProperty Id

A run by hand, as the task would run it. Writes C:\jobs\out\questions.answers.csv; $LASTEXITCODE is 0 to 7.

.EXAMPLE
pwsh -NonInteractive -NoProfile -File C:\jobs\Invoke-CalStudioScheduledBatch.ps1 -InputCsv C:\jobs\tickets.csv -OutputFolder C:\jobs\out -AppName support-bot -KeyProperty Id -PromptTemplate "Summarise this helpdesk ticket in one sentence. Subject: {Subject}. Body: {Body}"

A helpdesk export with the columns Id, Subject, Body and Owner and no Prompt column: each row's prompt is built from
its Subject and Body. The answers CSV keeps Id, Subject, Body and Owner, then the answer.

.EXAMPLE
# Windows Task Scheduler, run once as the account the task uses. The key for that account only (a user environment
# variable, read when the task starts):
$key = Read-Host 'CalStudio key' -AsSecureString
[Environment]::SetEnvironmentVariable('CALSTUDIO_API_KEY', [Net.NetworkCredential]::new('', $key).Password, 'User')

$action = New-ScheduledTaskAction -Execute 'pwsh.exe' -WorkingDirectory 'C:\jobs' -Argument (
    '-NonInteractive -NoProfile -File "C:\jobs\Invoke-CalStudioScheduledBatch.ps1" ' +
    '-InputCsv "C:\jobs\questions.csv" -OutputFolder "C:\jobs\out" -AppName support-bot -KeyProperty Id -Plan Lite')
# A second run later the same day finishes what a failure left over; the next day's run finishes what the cap left.
$triggers = @(New-ScheduledTaskTrigger -Daily -At 02:00; New-ScheduledTaskTrigger -Daily -At 14:00)
$settings = New-ScheduledTaskSettingsSet -StartWhenAvailable -ExecutionTimeLimit (New-TimeSpan -Hours 8) -MultipleInstances IgnoreNew
# Register-ScheduledTask takes the account's password as plain text; Get-Credential at least reads it masked.
$account = Get-Credential "$env:USERDOMAIN\svc-calstudio"
Register-ScheduledTask -TaskName 'CalStudio daily batch' -Action $action -Trigger $triggers -Settings $settings `
    -User $account.UserName -Password $account.GetNetworkCredential().Password -RunLevel Limited

The task runs pwsh.exe non-interactively as svc-calstudio; its "Last Run Result" is the script's exit code. Each run
continues from the journal, so the same task finishes a long input over several days. With schtasks.exe instead (it
asks for the password): schtasks /Create /TN "CalStudio daily batch" /SC DAILY /ST 02:00 /RU svc-calstudio /RP * /TR
"pwsh.exe -NonInteractive -NoProfile -File C:\jobs\Invoke-CalStudioScheduledBatch.ps1 -InputCsv C:\jobs\questions.csv -OutputFolder C:\jobs\out -AppName support-bot -KeyProperty Id"

.EXAMPLE
# Once, as the task's account (for example: runas /user:svc-calstudio pwsh), keep the key in a SecretManagement vault
# that opens without a password (a task cannot type one; the store's files are readable by this account only):
Install-Module Microsoft.PowerShell.SecretManagement, Microsoft.PowerShell.SecretStore -Scope CurrentUser
Register-SecretVault -Name CalStudioVault -ModuleName Microsoft.PowerShell.SecretStore -DefaultVault
Set-SecretStoreConfiguration -Scope CurrentUser -Authentication None -Interaction None
Set-Secret -Name CalStudio -Secret (Read-Host 'CalStudio key' -AsSecureString)

The task's arguments then end with -SecretName CalStudio instead of relying on CALSTUDIO_API_KEY.

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
    [string] $PromptTemplate,
    [string] $AppName,
    [uri] $BaseUri,
    [string[]] $KeyProperty,
    [string] $SecretName,
    [string] $SecretVault,
    [ValidateRange(1, 256)] [int] $ThrottleLimit,
    [string] $Plan,
    [string] $ModulePath
)

# ---- The exit code: the one decision a scheduler acts on -------------------------------------------------------
# -Fatal: the error that stopped the run, if one did. -FailedRows: rows that finished with an error; -InputFaultRows:
# those whose input is at fault (Test-InputFault), which a rerun as is fails again. -Stopped: Ctrl+C or SIGTERM.
function Get-BatchExitCode {
    param([System.Management.Automation.ErrorRecord] $Fatal, [int] $FailedRows, [int] $InputFaultRows, [bool] $Stopped)
    if ($Stopped) { return 4 }                                                       # the next run continues
    if ($Fatal) {
        $id = ($Fatal.FullyQualifiedErrorId -split ',')[0]
        if ($id -eq 'JournalInUse') { return 5 }                                     # another run is at work
        if ($id -eq 'ApiUnreachable') { return 6 }                                   # the network, not the rows
        if ($id -eq 'DailyQuotaExhausted') { return 2 }                              # rerun after the quota resets
        return 3                                                                     # no key, key rejected, bad input, journal write, ...
    }
    if ($InputFaultRows -gt 0) { return 7 }                                          # fix the input: a rerun cannot
    if ($FailedRows -gt 0) { return 1 }                                              # some rows failed; a rerun may fix them
    return 0                                                                         # every row answered
}

# Whether a row's ErrorId says its input is at fault, from the module's own ErrorId table (about_CalStudio lists it):
# a refusal that is never retried, of category InvalidArgument or InvalidData (a bad prompt, URL, app name or key,
# a 400). Such a row fails the same way on every rerun until its input is fixed.
function Test-InputFault([string] $errorId) {
    $info = $null
    try { $info = [CalStudio.Client.ErrorIds]::Info($errorId) } catch { return $false }   # not one of the module's ids
    $info.Kind -eq [CalStudio.Client.OutcomeKind]::Permanent -and
        $info.Category -in @([System.Management.Automation.ErrorCategory]::InvalidArgument, [System.Management.Automation.ErrorCategory]::InvalidData)
}

function New-FatalError([string] $errorId, [string] $message) {
    [System.Management.Automation.ErrorRecord]::new([System.InvalidOperationException]::new($message), $errorId,
        [System.Management.Automation.ErrorCategory]::InvalidArgument, $null)
}

# The parameters that were given a value, as a splat: the others keep the cmdlet's default.
function New-Splat([hashtable] $values) {
    $splat = @{}
    foreach ($name in $values.Keys) { if ($values[$name]) { $splat[$name] = $values[$name] } }
    $splat
}

# On Linux and macOS, SIGTERM (systemd, kill) would end the process at once; turn it into the Ctrl+C that stops the
# pipeline, so the finally block below logs the stop and exits 4. The handler runs on a signal thread with no
# runspace, so it is an expression tree (no script block): it cancels the termination and sends SIGINT to this process.
# A process started with SIGINT ignored (a background job of a shell script) cannot be stopped that way: SIGTERM then
# keeps its default (the process ends with no log line).
function Register-TermAsInterrupt {
    $registration = 'System.Runtime.InteropServices.PosixSignalRegistration' -as [type]
    if ($null -eq $registration -or [System.Environment]::OSVersion.Platform -ne [System.PlatformID]::Unix) { return $null }
    if (Test-Path /proc/self/status) {
        $ignored = (Get-Content /proc/self/status | Where-Object { $_ -like 'SigIgn:*' }) -split '\s+' | Select-Object -Last 1
        if ($ignored -and ([Convert]::ToUInt64($ignored, 16) -band 2)) { return $null }   # bit 2 = SIGINT
    }
    $E = [System.Linq.Expressions.Expression]
    $context = $E::Parameter([System.Runtime.InteropServices.PosixSignalContext], 'context')
    $start = [System.Diagnostics.Process].GetMethod('Start', [type[]]@([string], [string]))
    $body = $E::Block(
        $E::Assign($E::Property($context, 'Cancel'), $E::Constant($true)),
        $E::Call($start, $E::Constant('kill'), $E::Constant("-INT $PID")))
    $handler = $E::Lambda([Action[System.Runtime.InteropServices.PosixSignalContext]], $body, $context).Compile()
    $registration::Create([System.Runtime.InteropServices.PosixSignal]::SIGTERM, $handler)
}

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$rowTag = '__CalStudioScheduledBatchRow'
$promptColumns = 'Prompt', 'Question', 'Text', 'Input'   # Invoke-CalStudioPrompt's -Prompt and its aliases
$responseColumns = 'Message', 'Success', 'StatusCode', 'ErrorId', 'ErrorMessage', 'Attempts', 'RequestId', 'CompletedAt', 'FromJournal'
$fatal = $lock = $slots = $columns = $answersPath = $errorsPath = $journalPath = $termRegistration = $null
$finished = $connected = $csvWritten = $false
$failedRows = $inputFaultRows = $rowCount = 0
$requestsSent = 0   # attempts of the rows this run sent (answers as they come, failures at the end)
$runStart = Get-Date
$logLines = [System.Collections.Generic.List[string]]::new()
$inputName = [System.IO.Path]::GetFileNameWithoutExtension($InputCsv)

function Write-Log([string] $line) {
    $logLines.Add([System.DateTimeOffset]::Now.ToString('yyyy-MM-dd HH:mm:ss zzz ', [cultureinfo]::InvariantCulture) + $line)
}

# The answers so far, in input order; rewritten through a temporary file, so a reader never sees half of it.
# Language and .NET only, no cmdlet: after Ctrl+C or SIGTERM the pipeline is stopping, and a cmdlet called from the
# finally block then fails at once, which used to leave no answers CSV.
function Write-AnswersCsv {
    if ($null -eq $slots -or $null -eq $columns) { return }
    $temp = "$answersPath.tmp"
    $writer = [System.IO.StreamWriter]::new($temp, $false, [System.Text.UTF8Encoding]::new($true))
    try {
        $writer.WriteLine((ConvertTo-CsvLine $columns))
        foreach ($row in $slots) { if ($null -ne $row) { $writer.WriteLine((ConvertTo-CsvLine @(foreach ($c in $columns) { $row.$c }))) } }
    }
    finally { $writer.Dispose() }
    [System.IO.File]::Copy($temp, $answersPath, $true)
    [System.IO.File]::Delete($temp)
}

# One CSV line as Export-Csv writes it (every field quoted), with times in ISO 8601 whatever the culture.
function ConvertTo-CsvLine([object[]] $values) {
    $fields = foreach ($v in $values) {
        $text = if ($null -eq $v) { '' }
            elseif ($v -is [System.DateTimeOffset] -or $v -is [datetime]) { $v.ToString('o', [cultureinfo]::InvariantCulture) }
            elseif ($v -is [System.IFormattable]) { $v.ToString($null, [cultureinfo]::InvariantCulture) }
            else { [string]$v }
        '"' + $text.Replace('"', '""') + '"'
    }
    $fields -join ','
}

# "12 of 50 rows done (10 answered, 2 failed), 38 left": the numbers the start, stop and end lines give.
function Get-RunCounts {
    $done = 0; $answered = 0; $fromJournal = 0
    foreach ($slot in $slots) {   # none before the rows are read
        if ($null -eq $slot) { continue }
        $done++
        if ($slot.Success -eq $true) { $answered++ }
        if ($slot.FromJournal -eq $true) { $fromJournal++ }
    }
    [pscustomobject]@{ Done = $done; Answered = $answered; FromJournal = $fromJournal; Failed = $done - $answered; Left = $rowCount - $done }
}

try {
    Write-Log "Start: $InputCsv (PID $PID)."
    $termRegistration = Register-TermAsInterrupt
    $OutputFolder = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutputFolder)
    $null = New-Item -ItemType Directory -Path $OutputFolder -Force
    # Named after the input, not the date: each run, on any day and in any time zone, continues the same journal.
    $answersPath = Join-Path $OutputFolder "$inputName.answers.csv"
    $journalPath = Join-Path $OutputFolder "$inputName.journal.jsonl"
    $errorsPath = Join-Path $OutputFolder "$inputName.errors.log"

    # ---- Everything that would make every row fail is checked here, before any request ----
    # The key: from a vault when asked, else from the account's environment. Never from the script itself.
    $apiKey = $null
    if ($SecretName) {
        if (-not (Get-Command Get-Secret -ErrorAction SilentlyContinue)) {
            throw (New-FatalError 'NoApiKey' "-SecretName needs the SecretManagement module (Install-Module Microsoft.PowerShell.SecretManagement) and a vault registered for this account.")
        }
        $secretArgs = New-Splat @{ Name = $SecretName; Vault = $SecretVault }
        $secret = Get-Secret @secretArgs
        if ($secret -is [System.Security.SecureString]) { $apiKey = $secret }
        elseif ($secret -is [System.Management.Automation.PSCredential]) { $apiKey = $secret.Password }
        elseif ($secret -is [string] -and $secret) { $apiKey = ConvertTo-SecureString $secret -AsPlainText -Force }
        if ($null -eq $apiKey -or $apiKey.Length -eq 0) { throw (New-FatalError 'NoApiKey' "The secret '$SecretName' is empty or not a string, SecureString or PSCredential.") }
    }
    elseif ([string]::IsNullOrWhiteSpace($env:CALSTUDIO_API_KEY)) {
        throw (New-FatalError 'NoApiKey' 'No CalStudio API key: set the environment variable CALSTUDIO_API_KEY for the account that runs this job, or give -SecretName to read it from a SecretManagement vault.')
    }

    if ($ModulePath) { Import-Module $ModulePath -ErrorAction Stop } else { Import-Module CalStudio -ErrorAction Stop }

    # pwsh -File passes "TicketId,AppName" as one string: a comma separates key columns there too.
    if ($KeyProperty) { $KeyProperty = @($KeyProperty | ForEach-Object { $_ -split ',' } | ForEach-Object { $_.Trim() } | Where-Object { $_ }) }

    if (-not (Test-Path -LiteralPath $InputCsv -PathType Leaf)) { throw (New-FatalError 'InputCsvNotFound' "The input CSV '$InputCsv' does not exist.") }
    $rows = @(Import-Csv -LiteralPath $InputCsv)
    $rowCount = $rows.Count
    $inputColumns = @()
    if ($rows.Count -gt 0) { $inputColumns = @($rows[0].PSObject.Properties | Where-Object MemberType -eq 'NoteProperty' | ForEach-Object Name) }
    $columnList = $inputColumns -join ', '
    if ($rows.Count -gt 0) {
        if ($PromptTemplate) {
            $template = $null
            try { $template = [CalStudio.Engine.PromptTemplate]::Parse($PromptTemplate) }
            catch {
                $problem = $_.Exception
                if ($problem.InnerException) { $problem = $problem.InnerException }   # a .NET method's exception comes wrapped
                throw (New-FatalError 'InvalidPromptTemplate' $problem.Message)
            }
            $absent = @($template.Columns | Where-Object { $inputColumns -notcontains $_ })
            if ($absent.Count -gt 0) {
                throw (New-FatalError 'InvalidPromptTemplate' "-PromptTemplate names the column(s) $($absent -join ', '), which $InputCsv lacks (its columns: $columnList).")
            }
        }
        elseif (-not @($inputColumns | Where-Object { $promptColumns -contains $_ })) {
            throw (New-FatalError 'NoPromptColumn' "$InputCsv has no Prompt column (nor Question, Text or Input; its columns: $columnList). Add one, or build the prompt from its columns with -PromptTemplate, such as -PromptTemplate 'Summarise: {$($inputColumns | Select-Object -Last 1)}'.")
        }
        $absentKeys = @($KeyProperty | Where-Object { $_ -and $inputColumns -notcontains $_ })
        if ($absentKeys.Count -gt 0) {
            throw (New-FatalError 'NoKeyColumn' "-KeyProperty '$($absentKeys -join "', '")' is not a column of $InputCsv (its columns: $columnList).")
        }
    }

    # One run per input at a time: a second one (an overlapping schedule, a run by hand) leaves the journal alone.
    try { $lock = [System.IO.File]::Open((Join-Path $OutputFolder "$inputName.lock"), 'OpenOrCreate', 'ReadWrite', 'None') }
    catch [System.IO.IOException] {
        throw (New-FatalError 'JournalInUse' "Another run is working on $InputCsv (it holds $(Join-Path $OutputFolder "$inputName.lock")); this run sent nothing.")
    }

    $extraColumns = @($responseColumns)
    if ($PromptTemplate) { $extraColumns = @('Prompt') + $extraColumns }   # the prompt the template made
    $columns = @($inputColumns) + @($extraColumns | Where-Object { $inputColumns -notcontains $_ })
    # Each row carries its number through the module (it keeps a row's own columns), so answers and failures can be put back in input order.
    for ($i = 0; $i -lt $rows.Count; $i++) { $rows[$i] | Add-Member -NotePropertyName $rowTag -NotePropertyValue $i }
    $slots = New-Object 'object[]' $rows.Count

    $connect = New-Splat @{ ApiKey = $apiKey; AppName = $AppName; BaseUri = $BaseUri; Plan = $Plan }
    Connect-CalStudio @connect
    $connected = $true

    # ThrottleLimit is 0 only when not given (its range starts at 1).
    $invoke = New-Splat @{ KeyProperty = $KeyProperty; PromptTemplate = $PromptTemplate; ThrottleLimit = $ThrottleLimit }
    $invoke.JournalPath = $journalPath
    $invoke.TotalCount = $rows.Count

    $rowErrors = $null
    try {
        $rows | Invoke-CalStudioPrompt @invoke -ErrorAction SilentlyContinue -ErrorVariable rowErrors |
            ForEach-Object {
                $slots[[int]$_.$rowTag] = $_ | Select-Object -Property $columns
                if (-not $_.FromJournal) { $requestsSent += $_.Attempts }
            }
    }
    catch {
        # DailyQuotaExhausted, ApiKeyRejected or JournalInUse stop the whole batch; the rows answered before it are in $slots and the journal.
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
        if (Test-InputFault $errorId) { $inputFaultRows++ }
    }
    # Failed rows' attempts: the module keeps this session's responses, failures included.
    foreach ($r in @(Get-CalStudioResponse -Failed -Since $runStart)) { $requestsSent += $r.Attempts }

    Write-AnswersCsv
    $csvWritten = $true   # the finally block has nothing left to save
    $counts = Get-RunCounts
    Write-Output ("CalStudio batch {0}: {1} rows, {2} answered ({3} from the journal), {4} failed, {5} not done; answers in {6}" -f
        $inputName, $rowCount, $counts.Answered, $counts.FromJournal, $counts.Failed, $counts.Left, $answersPath)
    $finished = $true
}
catch {
    $fatal = $_
    $finished = $true
}
finally {
    # Not finished and nothing thrown: Ctrl+C (or SIGTERM, turned into one) stopped the pipeline.
    $stopped = -not $finished
    if ($connected) { try { Disconnect-CalStudio } catch { } }
    if (-not $csvWritten) { try { Write-AnswersCsv } catch { Write-Log "Could not write the answers CSV: $($_.Exception.Message)" } }
    $counts = Get-RunCounts
    $doneText = "$($counts.Done) of $rowCount rows done"
    if ($stopped) {
        Write-Log "Stopped: [Stopped] the run was stopped (Ctrl+C or SIGTERM) before it finished, $doneText; the next run continues from $journalPath."
    }
    if ($fatal) {
        $fatalId = ($fatal.FullyQualifiedErrorId -split ',')[0]
        $reason = $fatal.Exception.Message
        if ($fatalId -eq 'DailyQuotaExhausted') {
            # The module's resume command is this script's inner pipeline; for a job, the resume is simply the next run.
            $reason = ($reason -replace '\s*To resume, run:[\s\S]*$', '') + " Run this job again after the reset: it continues from $journalPath."
        }
        if ($null -ne $slots) { $reason = "$reason ($doneText)" }
        Write-Log "Stopped: [$fatalId] $reason"
        # On stderr, so Task Scheduler history, cron mail or a wrapper's log shows why.
        [Console]::Error.WriteLine("CalStudio batch stopped: [$fatalId] $reason")
    }
    $exitCode = Get-BatchExitCode -Fatal $fatal -FailedRows $failedRows -InputFaultRows $inputFaultRows -Stopped $stopped
    Write-Log ("End: exit {0}; {1} rows: {2} done ({3} answered, {4} of them from the journal, {5} failed, {6} needing their input fixed), {7} left; {8} requests sent." -f
        $exitCode, $rowCount, $counts.Done, $counts.Answered, $counts.FromJournal, $counts.Failed, $inputFaultRows, $counts.Left, $requestsSent)
    if ($logLines.Count -gt 0) {
        try {
            if (-not $errorsPath) { $errorsPath = Join-Path $OutputFolder "$inputName.errors.log" }
            Add-Content -LiteralPath $errorsPath -Value $logLines -Encoding UTF8
        }
        catch { [Console]::Error.WriteLine("Could not write the error log: $($_.Exception.Message)") }
    }
    if ($lock) { $lock.Dispose() }
    if ($termRegistration) { $termRegistration.Dispose() }
    if ($stopped) {
        [Console]::Error.WriteLine("CalStudio batch stopped by Ctrl+C or SIGTERM; the next run continues from $journalPath.")
        # A stopping pipeline ignores `exit`; end the process with the code the scheduler should see.
        [System.Environment]::Exit($exitCode)
    }
}

exit $exitCode
