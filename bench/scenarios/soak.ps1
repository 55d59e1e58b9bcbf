# Benchmark scenario, dot-sourced by bench/Run-Benchmarks.ps1 (helpers: bench/BenchSupport.ps1).

function Invoke-SoakBenchmark {
    $name = 'soak'
    $count = 2000
    $emu = Start-BenchEmulator '--seed', '42', '--fault-500', '0.10', '--fault-502-html', '0.05', '--fault-drop', '0.03', '--fault-hang', '0.02'
    try {
        # Requests in flight at the emulator, sampled every 250 ms: shows whether ThrottleLimit 16 is kept busy while rows retry.
        $samples = [System.Collections.Generic.List[long]]::new()
        $tick = { $samples.Add([long](Get-CalStudioEmulatorStats $emu -NoPrompts).inFlight) }
        $run = Invoke-BenchChild -TimeoutSec 420 -OnTick $tick -Script (New-ModuleRunScript @{ Uri = $emu.Uri.AbsoluteUri; Key = $emu.Key; Count = $count; ThrottleLimit = 16; TimeoutSec = 2; Prefix = 'soak-'; CheckRows = $true })
        $r = $run.Result
        $s = Get-CalStudioEmulatorStats $emu
        $doubled = @($s.prompts.PSObject.Properties | Where-Object { $_.Value.succeeded -gt 1 })
        $rate = $r.Succeeded / $count
        Add-Row "$name success rate" "$(F ($rate * 100) '0.00') % ($($r.Succeeded) of $count)" '-' $null '>= 99.5 %' ($rate -ge 0.995)
        Add-Row "$name rows not exactly once" "$($r.RowsNotExactlyOnce)" "$count rows: $($r.Answered) answers + $($r.Errors) errors" $null '0' ($r.RowsNotExactlyOnce -eq 0 -and $r.UnknownRows -eq 0 -and ($r.Answered + $r.Errors) -eq $count)
        Add-Row "$name prompts answered twice" "$($doubled.Count)" '-' $null '0' ($doubled.Count -eq 0)
        $busy = if ($samples.Count) { ($samples | Measure-Object -Average).Average } else { [double]::NaN }
        $idle = if ($samples.Count) { @($samples | Where-Object { $_ -eq 0 }).Count / $samples.Count } else { [double]::NaN }
        Add-Note $name ("{0:0.0} s for {5} prompts; in order: {1}; errors: {2}; emulator requests {3}, outcomes: {4}; emulator maxInFlight {6}; requests in flight sampled every 250 ms ({7} samples): mean {8}, 0 in flight in {9} % of samples (hung requests count as in flight)." -f
            $r.Seconds, $r.InOrder, ($(if ($r.ErrorIds) { $r.ErrorIds -join ' ' } else { 'none' })), $s.requests, (Format-StatusCounts $s),
            $count, $s.maxInFlight, $samples.Count, (F $busy '0.0'), (F ($idle * 100) '0'))
    }
    finally { $emu | Stop-CalStudioEmulator }
}
