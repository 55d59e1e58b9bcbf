# Benchmark scenario, dot-sourced by bench/Run-Benchmarks.ps1 (helpers: bench/BenchSupport.ps1).

<#
Issue 19's row: the process CPU per row of -ResponseSchema (find the JSON, parse it, validate it, make the columns)
against plain text, at zero latency, where nothing hides the module's own work. The rows are what Import-Csv gives
(TicketId, Owner, Prompt), as a schema batch is run. Both runs get the same answer bytes from the same JSON app
("[json:whole]" prompts, so no row is re-asked and both send the same requests); only what the module does with the
answer differs. As information: the same with bare prompt strings (the text run then adds no property to its
output, the JSON run still adds the answer's five), and the emulator's mixed forms (fenced, prose, invalid,
off-schema), whose re-asks are requests of their own.
#>
function Invoke-JsonAnswersBenchmark {
    $name = 'json-answers'
    $count = 5000; $throttle = 16; $repeat = 5; $warmUp = 20000
    $schema = Join-Path $root 'samples/ticket.schema.json'
    $emu = Start-BenchEmulator @('--json-app', 'bench')
    try {
        $uri = $emu.Uri.AbsoluteUri
        function Measure-Mode([hashtable] $Extra, [string] $Prefix, [switch] $AllAnswered) {
            Reset-CalStudioEmulator $emu
            $arguments = @{ Uri = $uri; Key = $emu.Key; Count = $count; ThrottleLimit = $throttle; WarmUp = $warmUp; Repeat = $repeat; Prefix = $Prefix } + $Extra
            $run = Invoke-BenchChild -TimeoutSec 300 -Script (New-ModuleRunScript $arguments)
            foreach ($r in $run.Results) {
                # A row ends as an answer or as one row error (AnswerNotValid for the stubborn ones), never both or neither.
                if ($r.Answered + $r.Errors -ne $count -or ($AllAnswered -and $r.Errors)) { throw "The module answered $($r.Answered) of $count prompts ($($r.ErrorIds -join ', '))." }
            }
            [pscustomobject]@{
                CpuMsPerRow = @($run.Results | ForEach-Object { $_.CpuMs / $count })
                Requests    = (Get-CalStudioEmulatorStats $emu -NoPrompts).requests
                Errors      = @($run.Results | ForEach-Object Errors)
            }
        }
        $whole = '[json:whole] t-'
        $text = Measure-Mode @{ AsRows = $true } $whole -AllAnswered
        $json = Measure-Mode @{ AsRows = $true; ResponseSchema = $schema } $whole -AllAnswered
        $textStrings = Measure-Mode @{} $whole -AllAnswered
        $jsonStrings = Measure-Mode @{ ResponseSchema = $schema } $whole -AllAnswered
        $mixed = Measure-Mode @{ AsRows = $true; ResponseSchema = $schema } 'ticket-'
        $t = Get-Median $text.CpuMsPerRow; $j = Get-Median $json.CpuMsPerRow; $m = Get-Median $mixed.CpuMsPerRow
        $ts = Get-Median $textStrings.CpuMsPerRow; $js = Get-Median $jsonStrings.CpuMsPerRow
        Add-Row "$name CPU per CSV row, schema vs text" "$(F $j '0.000') ms/row (-ResponseSchema)" "$(F $t '0.000') ms/row (plain text, same answers)" ($j / $t) '<= 1.2x' ($j / $t -le 1.2)
        Add-Row "$name CPU per prompt string, schema vs text" "$(F $js '0.000') ms/row (-ResponseSchema)" "$(F $ts '0.000') ms/row (plain text, no columns added)" ($js / $ts) 'info' 'info'
        Add-Row "$name CPU per CSV row, mixed forms" "$(F $m '0.000') ms/row (re-asks included)" "$(F $t '0.000') ms/row (plain text)" ($m / $t) 'info' 'info'
        $list = { param($mode) ($mode.CpuMsPerRow | ForEach-Object { F $_ '0.000' }) -join ', ' }
        Add-Note $name ("$count rows, ThrottleLimit $throttle, $repeat runs each in one fresh pwsh after a $warmUp-row warm-up (the same settings as the runs), emulator --json-app, zero latency; median shown. CPU ms/row, CSV rows: text {0}; -ResponseSchema samples/ticket.schema.json {1}; mixed forms {2}. Prompt strings: text {3}; schema {4}. Requests the emulator received per child ({5} rows each): text {6}, schema {7}, mixed {8}; the mixed runs' row errors (the stubborn off-schema rows): {9}." -f
            (& $list $text), (& $list $json), (& $list $mixed), (& $list $textStrings), (& $list $jsonStrings),
            ($warmUp + $repeat * $count), $text.Requests, $json.Requests, $mixed.Requests, ($mixed.Errors -join ', '))
    }
    finally { $emu | Stop-CalStudioEmulator }
}
