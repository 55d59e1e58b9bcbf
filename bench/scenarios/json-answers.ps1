# Benchmark scenario, dot-sourced by bench/Run-Benchmarks.ps1 (helpers: bench/BenchSupport.ps1).

<#
Issue 19's row: the process CPU per row of -ResponseSchema (find the JSON, parse it, validate it, make the columns)
against plain text, at zero latency, where nothing hides the module's own work. Both formats run in the same pwsh,
alternating (text, schema, text, schema, ...) after one warm-up, so JIT tiering and the GC's state drift alike for
both; the ratio is the median of each pair's ratio. The rows are what Import-Csv gives (TicketId, Owner, Prompt), as
a schema batch is run. Both get the same answer bytes from the same JSON app ("[json:whole]" prompts, so no row is
re-asked and both send the same requests); only what the module does with the answer differs. As information: the
same with bare prompt strings (the text run then adds no property to its output, the JSON run still adds the
answer's five), and the emulator's mixed forms (fenced, prose, invalid, off-schema), whose re-asks are requests too.
#>
function Invoke-JsonAnswersBenchmark {
    $name = 'json-answers'
    # The warm-up runs in 40 batches per format, so code run once per batch is tiered before the pairs start; each
    # measured run starts once the JIT has been idle for 200 ms, so JIT work queued between runs is not charged to it.
    $count = 5000; $throttle = 16; $repeat = 16; $warmUp = 40000; $warmUpBatches = 40; $settleMs = 200
    $schema = Join-Path $root 'samples/ticket.schema.json'
    $emu = Start-BenchEmulator @('--json-app', 'bench')
    try {
        $uri = $emu.Uri.AbsoluteUri
        function Measure-Child([hashtable] $Extra, [string] $Prefix, [switch] $AllAnswered) {
            Reset-CalStudioEmulator $emu
            $arguments = @{ Uri = $uri; Key = $emu.Key; Count = $count; ThrottleLimit = $throttle; WarmUp = $warmUp; WarmUpBatches = $warmUpBatches; SettleMs = $settleMs; Repeat = $repeat; Prefix = $Prefix; ResponseSchema = $schema } + $Extra
            $run = Invoke-BenchChild -TimeoutSec 600 -Script (New-ModuleRunScript $arguments)
            foreach ($r in $run.Results) {
                # A row ends as an answer or as one row error (AnswerNotValid for the stubborn ones), never both or neither.
                if ($r.Answered + $r.Errors -ne $count -or ($AllAnswered -and $r.Errors)) { throw "The module answered $($r.Answered) of $count prompts ($($r.ErrorIds -join ', '))." }
            }
            $cpu = { param($format) @($run.Results | Where-Object Format -eq $format | ForEach-Object { $_.CpuMs / $count }) }
            $text = & $cpu 'Text'; $json = & $cpu 'Json'
            $jit = { param($format) Get-Median @($run.Results | Where-Object Format -eq $format | ForEach-Object JitMs) }
            [pscustomobject]@{
                Text     = $text
                Json     = $json
                # Pair i is the text run and the schema run right after it.
                Ratio    = if ($text) { Get-Median @(for ($i = 0; $i -lt $json.Count; $i++) { $json[$i] / $text[$i] }) } else { $null }
                JitMs    = '{0:0} / {1:0}' -f (& $jit 'Text'), (& $jit 'Json')
                Requests = (Get-CalStudioEmulatorStats $emu -NoPrompts).requests
                Errors   = @($run.Results | ForEach-Object Errors)
            }
        }
        $whole = '[json:whole] t-'
        $rows = Measure-Child @{ AsRows = $true; CompareWithText = $true } $whole -AllAnswered
        $strings = Measure-Child @{ CompareWithText = $true } $whole -AllAnswered
        $mixed = Measure-Child @{ AsRows = $true } 'ticket-'
        $t = Get-Median $rows.Text; $j = Get-Median $rows.Json; $m = Get-Median $mixed.Json
        Add-Row "$name CPU per CSV row, schema vs text (same process, alternating)" "$(F $j '0.000') ms/row (-ResponseSchema)" "$(F $t '0.000') ms/row (plain text, same answers)" $rows.Ratio '<= 1.2x' ($rows.Ratio -le 1.2)
        Add-Row "$name CPU per prompt string, schema vs text" "$(F (Get-Median $strings.Json) '0.000') ms/row (-ResponseSchema)" "$(F (Get-Median $strings.Text) '0.000') ms/row (plain text, no columns added)" $strings.Ratio 'info' 'info'
        Add-Row "$name CPU per CSV row, mixed forms" "$(F $m '0.000') ms/row (re-asks included)" "$(F $t '0.000') ms/row (plain text, other child)" ($m / $t) 'info' 'info'
        $list = { param($values) ($values | ForEach-Object { F $_ '0.000' }) -join ', ' }
        Add-Note $name ("$count rows a run, ThrottleLimit $throttle, a $warmUp-row warm-up in $warmUpBatches batches per format, then $repeat text/schema pairs in one fresh pwsh, each run once the JIT had been idle for $settleMs ms; emulator --json-app, zero latency; ratio = median of the pairs' ratios. CPU is the child pwsh's process CPU (all its threads: pipeline, HTTP, thread pool, GC, JIT), not the emulator's (another process). CPU ms/row, CSV rows: text {0}; -ResponseSchema samples/ticket.schema.json {1}. Prompt strings: text {2}; schema {3}. Mixed forms (schema only, its own pwsh): {4}. Median JIT time in a run (ms, text / schema): CSV {11}, strings {12}. Requests the emulator received per child: CSV {5}, strings {6} ({8} rows each, the warm-up's untagged prompts partly re-asked), mixed {7} ({10} rows); the mixed runs' row errors (the stubborn off-schema rows): {9}." -f
            (& $list $rows.Text), (& $list $rows.Json), (& $list $strings.Text), (& $list $strings.Json), (& $list $mixed.Json),
            $rows.Requests, $strings.Requests, $mixed.Requests, ($warmUp + $repeat * $count * 2), ($mixed.Errors -join ', '), ($warmUp + $repeat * $count), $rows.JitMs, $strings.JitMs)
    }
    finally { $emu | Stop-CalStudioEmulator }
}
