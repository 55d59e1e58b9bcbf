# The journal contract over real sockets, with the built module and real child processes:
# one writer at a time, an entry answers only the same request, only journals are written, damaged lines never crash.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:modulePath = (Resolve-Path (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1')).Path
    $script:InvokeFq = { param($id) "$id,CalStudio.Commands.InvokeCalStudioPromptCommand" }
    $script:GetFq = { param($id) "$id,CalStudio.Commands.GetCalStudioResponseCommand" }
    function Requests($emu) { (Get-CalStudioEmulatorStats $emu -NoPrompts).requests }
    function Connect-To($emu) { Connect-CalStudio -ApiKey (ConvertTo-SecureString $emu.Key -AsPlainText -Force) -BaseUri $emu.Uri -AppName journal -MaxRetries 0 }
}

Describe 'One writer per journal' {
    BeforeAll { $script:emu = Start-CalStudioEmulator -ArgumentList '--latency-ms', '200' }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'lets exactly one of two processes started at once run; the other fails with JournalInUse before sending anything' {
        $journal = Join-Path $TestDrive 'shared.jsonl'
        $go = Join-Path $TestDrive 'go'
        # Both processes import and connect first, then wait for one signal, so they reach -JournalPath together.
        $script = @"
Import-Module '$modulePath'
Connect-CalStudio -BaseUri '$($emu.Uri)' -AppName journal -MaxRetries 0
New-Item -ItemType File (Join-Path '$TestDrive' "ready-`$PID") | Out-Null
while (-not (Test-Path '$go')) { Start-Sleep -Milliseconds 10 }
try {
    `$out = 1..20 | ForEach-Object { [pscustomobject]@{ Id = `$_; Prompt = "shared row `$_" } } |
        Invoke-CalStudioPrompt -JournalPath '$journal' -KeyProperty Id -ThrottleLimit 1
    "ok=`$(@(`$out | Where-Object Success).Count)"
} catch { "refused=`$(`$_.FullyQualifiedErrorId)|`$(`$_.Exception.Message)" }
"@
        $procs = 1..2 | ForEach-Object { Start-PwshProcess -Script $script -Environment @{ CALSTUDIO_API_KEY = $emu.Key } }
        try {
            $deadline = [datetime]::UtcNow.AddSeconds(90)
            while (@(Get-ChildItem $TestDrive -Filter 'ready-*').Count -lt 2 -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            New-Item -ItemType File $go | Out-Null
            $outputs = foreach ($p in $procs) { $p.StandardOutput.ReadToEnd(); $p.WaitForExit() }
        } finally {
            foreach ($p in $procs) { if (-not $p.HasExited) { $p.Kill($true) } }
        }

        $text = $outputs -join "`n"
        @([regex]::Matches($text, 'ok=20')).Count | Should -Be 1 -Because $text
        $refused = [regex]::Match($text, 'refused=([^|]+)\|(.*)')
        $refused.Groups[1].Value | Should -Be (& $InvokeFq 'JournalInUse')
        $refused.Groups[2].Value | Should -Match "in use by process (\d+) on host '$([regex]::Escape([Environment]::MachineName))'"
        $procs.Id | Should -Contain ([int]([regex]::Match($refused.Groups[2].Value, 'process (\d+)').Groups[1].Value))
        Requests $emu | Should -Be 20
        $entries = @(Get-CalStudioResponse -JournalPath $journal -WarningVariable warnings)
        $warnings | Should -BeNullOrEmpty
        $entries.Count | Should -Be 20
        ($entries.RowKey | Sort-Object { [int]($_ -replace '^key:') }) | Should -Be (1..20 | ForEach-Object { "key:$_" })
        Test-Path "$journal.lock" | Should -BeFalse
    }

    It 'is free again once the holder has finished, and a stale .lock file from a killed run blocks nothing' {
        $journal = Join-Path $TestDrive 'stale.jsonl'
        Set-Content "$journal.lock" '{"pid":999999,"host":"long-gone"}'
        Connect-To $emu
        $r = [pscustomobject]@{ Id = 1; Prompt = 'after a crash' } | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id
        $r.Success | Should -BeTrue
        Test-Path "$journal.lock" | Should -BeFalse
    }
}

Describe 'An entry answers a row only when it is the same request' {
    BeforeAll { $script:emu = Start-CalStudioEmulator }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'sends next week''s questions with last week''s Ids again, and then answers them from the journal' {
        Connect-To $emu
        $journal = Join-Path $TestDrive 'weekly.jsonl'
        $lastWeek = 1..5 | ForEach-Object { [pscustomobject]@{ Id = $_; Prompt = "last week question $_" } }
        $thisWeek = 1..5 | ForEach-Object { [pscustomobject]@{ Id = $_; Prompt = "this week question $_" } }
        $null = $lastWeek | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id
        $before = Requests $emu

        $out = @($thisWeek | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id)
        Requests $emu | Should -Be ($before + 5)
        $out.Count | Should -Be 5
        $out | ForEach-Object { $_.FromJournal | Should -BeFalse }
        $out.Message | ForEach-Object { $_ | Should -Match 'this week question' }
        $out.Message | ForEach-Object { $_ | Should -Not -Match 'last week' }
        $out.Id | Should -Be (1..5)

        $again = @($thisWeek | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id)
        Requests $emu | Should -Be ($before + 5)
        $again | ForEach-Object { $_.FromJournal | Should -BeTrue }
        $again.Message | Should -Be $out.Message
    }
}

Describe 'Only journals are written' {
    BeforeAll { $script:emu = Start-CalStudioEmulator }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'refuses <Name> as a journal with NotAJournal and leaves it byte for byte' -ForEach @(
        @{ Name = 'the input CSV'; Make = { param($p) 1..3 | ForEach-Object { [pscustomobject]@{ Id = $_; Prompt = "csv $_" } } | Export-Csv $p -NoTypeInformation } }
        @{ Name = 'a JSON-lines log'; Make = { param($p) 1..200 | ForEach-Object { '{"level":"info","msg":"event ' + $_ + '"}' } | Set-Content $p } }
    ) {
        Connect-To $emu
        $file = Join-Path $TestDrive "foreign-$([guid]::NewGuid().ToString('N'))"
        & $Make $file
        $hash = (Get-FileHash $file -Algorithm SHA256).Hash
        $before = Requests $emu
        $caught = $null
        try { 'a', 'b' | Invoke-CalStudioPrompt -JournalPath $file -WarningVariable w | Out-Null }
        catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be (& $InvokeFq 'NotAJournal')
        $caught.CategoryInfo.Category | Should -Be 'InvalidData'
        (Get-FileHash $file -Algorithm SHA256).Hash | Should -Be $hash
        Requests $emu | Should -Be $before
        $w | Should -BeNullOrEmpty

        $caught = $null
        try { Get-CalStudioResponse -JournalPath $file } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be (& $GetFq 'NotAJournal')
        $caught.CategoryInfo.Category | Should -Be 'InvalidData'
    }
}

Describe 'Damaged lines' {
    BeforeAll { $script:emu = Start-CalStudioEmulator }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'skips a line with durationMs 1e300 with one warning, no exception, in both cmdlets' {
        Connect-To $emu
        $journal = Join-Path $TestDrive 'damaged.jsonl'
        $rows = 1..3 | ForEach-Object { [pscustomobject]@{ Id = $_; Prompt = "damaged test $_" } }
        $null = $rows | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id
        # Row 2's line gets one damaged number; rows 1 and 3 stay whole.
        $lines = Get-Content $journal
        $row2 = [array]::FindIndex([string[]]$lines, [Predicate[string]] { param($l) $l.Contains('"key":"key:2"') })
        $lines[$row2] = $lines[$row2] -replace '"durationMs":\d+', '"durationMs":1e300'
        $lines + '{"key":"key:9","success":"yes"}' | Set-Content $journal
        $damaged = "2 incomplete or damaged lines \($($row2 + 1), 5\)"
        $before = Requests $emu

        $out = @($rows | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id -WarningVariable w -WarningAction SilentlyContinue)
        @($w).Count | Should -Be 1
        "$w" | Should -Match $damaged
        $out.Count | Should -Be 3
        ($out | Where-Object { -not $_.FromJournal }).Id | Should -Be 2
        Requests $emu | Should -Be ($before + 1)

        $read = @(Get-CalStudioResponse -JournalPath $journal -WarningVariable gw -WarningAction SilentlyContinue)
        @($gw).Count | Should -Be 1
        "$gw" | Should -Match $damaged
        $read.Count | Should -Be 3 # rows 1 and 3, and row 2 sent again; its damaged line and the bogus one skipped
    }
}

Describe 'Get-CalStudioResponse -JournalPath' {
    BeforeAll {
        $script:emu = Start-CalStudioEmulator
        Connect-To $emu
        $script:journal = Join-Path $TestDrive 'read.jsonl'
        $rows = 1..30 | ForEach-Object { [pscustomobject]@{ Id = $_; Prompt = $(if ($_ % 10 -eq 0) { "emu:unsuccessful read back $_" } else { "read back $_" }); AppName = $(if ($_ -le 15) { 'first' } else { 'second' }) } }
        $null = $rows | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id -ErrorAction SilentlyContinue
        Disconnect-CalStudio
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'filters while it streams: -Failed, -AppName, -Last' {
        $all = @(Get-CalStudioResponse -JournalPath $journal)
        $all.Count | Should -Be 30
        # Journal order is completion order, which concurrency decides: compare as sets.
        @(Get-CalStudioResponse -JournalPath $journal -Failed).RowKey | Sort-Object | Should -Be @('key:10', 'key:20', 'key:30')
        @(Get-CalStudioResponse -JournalPath $journal -AppName second).Count | Should -Be 15
        (Get-CalStudioResponse -JournalPath $journal -Last 2).RowKey | Should -Be @($all[28].RowKey, $all[29].RowKey)
        (Get-CalStudioResponse -JournalPath $journal -AppName first -Last 1).RowKey | Should -Be $all.Where({ $_.AppName -eq 'first' })[-1].RowKey
    }

    It 'emits entries as it reads them: stopping after the first never reaches a damaged line at the end' {
        $copy = Join-Path $TestDrive 'stream.jsonl'
        Copy-Item $journal $copy
        Add-Content $copy '{"key":"x","success":true,"durationMs":1e300}'
        $first = Get-CalStudioResponse -JournalPath $copy -WarningVariable w -WarningAction SilentlyContinue | Select-Object -First 1
        $first.RowKey | Should -Not -BeNullOrEmpty
        $w | Should -BeNullOrEmpty
        $null = Get-CalStudioResponse -JournalPath $copy -WarningVariable w2 -WarningAction SilentlyContinue
        @($w2).Count | Should -Be 1
    }

    It 'reports a missing journal as JournalUnreadable, ReadError' {
        $caught = $null
        try { Get-CalStudioResponse -JournalPath (Join-Path $TestDrive 'missing.jsonl') } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be (& $GetFq 'JournalUnreadable')
        $caught.CategoryInfo.Category | Should -Be 'ReadError'
    }
}
