# The journal's integrity over real files, real child processes and real small filesystems (tmpfs, mounted as root):
# the lock is on the path and never follows a link, readers never wait, -WhatIf writes nothing, files are private,
# and a journal that cannot be written stops the batch with every paid answer kept in the journal or the output.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:modulePath = (Resolve-Path (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1')).Path
    $script:InvokeFq = { param($id) "$id,CalStudio.Commands.InvokeCalStudioPromptCommand" }
    function Connect-To($emu, [int] $retries = 0) {
        Connect-CalStudio -ApiKey (ConvertTo-SecureString $emu.Key -AsPlainText -Force) -BaseUri $emu.Uri -AppName journal -MaxRetries $retries -WarningAction SilentlyContinue
    }
    function PromptCounts($emu, [string] $prefix) {
        $all = (Get-CalStudioEmulatorStats $emu).prompts.PSObject.Properties | Where-Object Name -Like "$prefix*"
        [pscustomobject]@{
            Arrived  = [int](@($all | ForEach-Object { $_.Value.arrived }) | Measure-Object -Sum).Sum
            Answered = [int](@($all | ForEach-Object { $_.Value.succeeded }) | Measure-Object -Sum).Sum
        }
    }
    # Whole lines only: the file ends with a newline and every line after the header reads back as an entry, with no warning.
    function JournaledAnswers([string] $path) {
        $bytes = [IO.File]::ReadAllBytes($path)
        if ($bytes.Length -gt 0) { $bytes[-1] | Should -Be 10 -Because 'a journal holds whole lines only' }
        $lineCount = @([IO.File]::ReadAllLines($path) | Where-Object { $_ }).Count
        $entries = @(Get-CalStudioResponse -JournalPath $path -WarningVariable damaged)
        $damaged | Should -BeNullOrEmpty
        $entries.Count | Should -Be ([Math]::Max(0, $lineCount - 1))
        @($entries | Where-Object Success)
    }
    function Rows([string] $prefix, [int] $count) { 1..$count | ForEach-Object { [pscustomobject]@{ Id = $_; Prompt = "$prefix $_" } } }
    # Runs a batch in this process; returns the answers written to the pipeline and the terminating error, if any.
    function Invoke-Batch($rows, [hashtable] $options, [scriptblock] $onAnswer = {}) {
        $answers = [System.Collections.Generic.List[object]]::new()
        $stopped = $null
        try { $rows | Invoke-CalStudioPrompt @options -ErrorAction SilentlyContinue | ForEach-Object { $answers.Add($_); & $onAnswer $answers.Count } }
        catch { $stopped = $_ }
        [pscustomobject]@{ Answers = $answers; Error = $stopped }
    }
    function Wait-Until([scriptblock] $condition, [int] $seconds = 120) {
        $deadline = [datetime]::UtcNow.AddSeconds($seconds)
        while (-not (& $condition)) {
            if ([datetime]::UtcNow -gt $deadline) { throw "Timed out waiting for: $condition" }
            Start-Sleep -Milliseconds 50
        }
    }
    $script:ChildBatch = {
        param($journal, $prefix, [int] $count, $emuUri)
        @"
Import-Module '$modulePath'
Connect-CalStudio -BaseUri '$emuUri' -AppName journal -MaxRetries 0
`$answers = [System.Collections.Generic.List[object]]::new()
try { 1..$count | ForEach-Object { [pscustomobject]@{ Id = `$_; Prompt = "$prefix `$_" } } |
        Invoke-CalStudioPrompt -JournalPath '$journal' -KeyProperty Id -ThrottleLimit 2 | ForEach-Object { `$answers.Add(`$_) } }
catch { "error=`$(`$_.FullyQualifiedErrorId)|`$(`$_.Exception.Message)" }
"answers=`$(@(`$answers | Where-Object Success).Count)"
"@
    }
}

Describe 'Lock files cannot be turned against the user' -Skip:$IsWindows {
    BeforeAll { $script:emu = Start-CalStudioEmulator }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'refuses a symbolic link planted at <journal>.lock, sends nothing, and leaves the file it points to untouched' {
        Connect-To $emu
        $journal = Join-Path $TestDrive 'planted.jsonl'
        $precious = Join-Path $TestDrive 'precious.txt'
        Set-Content $precious 'a file the runner can write'
        $null = New-Item -ItemType SymbolicLink -Path "$journal.lock" -Target $precious
        $run = Invoke-Batch (Rows 'planted' 3) @{ JournalPath = $journal; KeyProperty = 'Id' }
        $run.Error.FullyQualifiedErrorId | Should -Be (& $InvokeFq 'JournalUnreadable')
        $run.Error.Exception.Message | Should -Match 'symbolic link'
        Get-Content $precious | Should -Be 'a file the runner can write'
        (Get-Item "$journal.lock").LinkTarget | Should -Be $precious
        Test-Path $journal | Should -BeFalse
        (PromptCounts $emu 'planted').Arrived | Should -Be 0
    }

    It 'creates the journal, its lock file and the state file readable by the owner only (0600)' {
        $state = Join-Path $TestDrive 'state-private'
        $env:CALSTUDIO_STATE_DIR = $state
        try {
            Connect-To $emu
            $journal = Join-Path $TestDrive 'private.jsonl'
            $modes = Rows 'private' 3 | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id | ForEach-Object { (Get-Item "$journal.lock").UnixMode }
            $modes | Should -Be (@('-rw-------') * 3)
            (Get-Item $journal).UnixMode | Should -Be '-rw-------'
            @(Get-ChildItem $state -File -Recurse).UnixMode | Should -Be '-rw-------'
        } finally { Remove-Item Env:CALSTUDIO_STATE_DIR }
    }
}

Describe 'A running journal: readers never wait, and the one-writer lock holds for the path' {
    BeforeAll { $script:emu = Start-CalStudioEmulator -ArgumentList '--latency-ms', '40' }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'lets Get-Content, Get-CalStudioResponse and -WhatIf read a journal another process is writing, without blocking it' {
        $journal = Join-Path $TestDrive 'live.jsonl'
        $child = Start-PwshProcess -Script (& $ChildBatch $journal 'live' 150 $emu.Uri) -Environment @{ CALSTUDIO_API_KEY = $emu.Key }
        try {
            Wait-Until { (Test-Path $journal) -and @(Get-Content $journal).Count -ge 6 }
            $seen = @(Get-Content $journal).Count
            $entries = @(Get-CalStudioResponse -JournalPath $journal)
            $entries.Count | Should -BeGreaterOrEqual ($seen - 1)
            $entries.Prompt | Should -BeLike 'live *'
            Connect-To $emu
            { Rows 'live' 150 | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id -WhatIf } | Should -Not -Throw
            $output = $child.StandardOutput.ReadToEnd(); $child.WaitForExit()
        } finally { if (-not $child.HasExited) { $child.Kill($true) } }
        $output | Should -Match 'answers=150' -Because $output
        $output | Should -Not -Match 'error='
        (PromptCounts $emu 'live').Arrived | Should -Be 150 # -WhatIf sent nothing
        (JournaledAnswers $journal).Count | Should -Be 150
    }

    It 'refuses a second run with JournalInUse after the running journal was deleted, and the first run stops with JournalWriteFailed keeping every answer' {
        $journal = Join-Path $TestDrive 'deleted.jsonl'
        $child = Start-PwshProcess -Script (& $ChildBatch $journal 'deleted' 400 $emu.Uri) -Environment @{ CALSTUDIO_API_KEY = $emu.Key }
        try {
            Wait-Until { (Test-Path $journal) -and @(Get-Content $journal).Count -ge 6 }
            Remove-Item $journal # rm j.jsonl while the run works
            Connect-To $emu
            $second = Invoke-Batch (Rows 'second' 20) @{ JournalPath = $journal; KeyProperty = 'Id' }
            $second.Error.FullyQualifiedErrorId | Should -Be (& $InvokeFq 'JournalInUse')
            $second.Error.Exception.Message | Should -Match "in use by process $($child.Id) on host"
            (PromptCounts $emu 'second').Arrived | Should -Be 0
            $output = $child.StandardOutput.ReadToEnd(); $child.WaitForExit()
        } finally { if (-not $child.HasExited) { $child.Kill($true) } }
        $output | Should -Match ('error=' + [regex]::Escape((& $InvokeFq 'JournalWriteFailed')) + '\|.*deleted or replaced') -Because $output
        $written = [int]([regex]::Match($output, 'answers=(\d+)').Groups[1].Value)
        $server = PromptCounts $emu 'deleted'
        $server.Answered | Should -Be $written -Because 'every answer the server gave was written to the pipeline'
        $server.Arrived | Should -BeLessThan 400 -Because 'the batch stopped instead of sending the whole input'
        Test-Path $journal | Should -BeFalse # the refused run created nothing
    }

    It 'writes nothing for -WhatIf: no journal, no lock file, no state file' {
        $state = Join-Path $TestDrive 'state-whatif'
        $null = New-Item -ItemType Directory $state
        $env:CALSTUDIO_STATE_DIR = $state
        try {
            Connect-To $emu
            $folder = Join-Path $TestDrive 'whatif'
            $null = New-Item -ItemType Directory $folder
            $null = Rows 'whatif-known' 2 | Invoke-CalStudioPrompt -JournalPath (Join-Path $folder 'known.jsonl') -KeyProperty Id
            $before = Get-ChildItem $folder, $state -Recurse -File | ForEach-Object { "$($_.FullName) $((Get-FileHash $_.FullName).Hash)" }
            $sent = (PromptCounts $emu 'whatif').Arrived
            Rows 'whatif-new' 5 | Invoke-CalStudioPrompt -JournalPath (Join-Path $folder 'new.jsonl') -KeyProperty Id -WhatIf
            Rows 'whatif-known' 4 | Invoke-CalStudioPrompt -JournalPath (Join-Path $folder 'known.jsonl') -KeyProperty Id -WhatIf
            $after = Get-ChildItem $folder, $state -Recurse -File | ForEach-Object { "$($_.FullName) $((Get-FileHash $_.FullName).Hash)" }
            $after | Should -Be $before
            (PromptCounts $emu 'whatif').Arrived | Should -Be $sent
        } finally { Remove-Item Env:CALSTUDIO_STATE_DIR }
    }
}

Describe 'A journal on a real small filesystem that fills up' -Skip:(-not $IsLinux) {
    BeforeAll {
        # Real size-limited tmpfs mounts need root and a kernel that allows them here; otherwise these tests skip and say why.
        $script:mountProblem = $null
        $probe = Join-Path ([IO.Path]::GetTempPath()) "calstudio-mount-probe-$PID"
        $null = New-Item -ItemType Directory $probe -Force
        $message = & mount -t tmpfs -o size=64k tmpfs $probe 2>&1
        if ($LASTEXITCODE -ne 0) { $script:mountProblem = "mounting a tmpfs is not allowed here ($message); run as root on Linux to cover full disks" }
        else { & umount $probe }
        Remove-Item $probe -Force
        $script:mounts = [System.Collections.Generic.List[string]]::new()
        function New-SmallDisk([string] $size) {
            $dir = Join-Path ([IO.Path]::GetTempPath()) "calstudio-small-$PID-$($mounts.Count)"
            $null = New-Item -ItemType Directory $dir -Force
            & mount -t tmpfs -o "size=$size,mode=0755" tmpfs $dir
            $mounts.Add($dir)
            $dir
        }
        # A shell command in a process of its own, acting on the disk while the batch runs in this one.
        function Start-Shell([string] $command) {
            $psi = [System.Diagnostics.ProcessStartInfo]::new('bash')
            $psi.ArgumentList.Add('-c'); $psi.ArgumentList.Add($command)
            [System.Diagnostics.Process]::Start($psi)
        }
        function Fill-Disk([string] $dir) { & bash -c "dd if=/dev/zero of='$dir/filler' bs=1k 2>/dev/null; true" }
        $script:emu = Start-CalStudioEmulator -ArgumentList '--latency-ms', '10-30', '--fault-500', '0.05', '--seed', '7'
    }
    AfterAll {
        $script:emu | Stop-CalStudioEmulator
        foreach ($dir in $mounts) { & umount -l $dir 2>$null; Remove-Item $dir -Force -ErrorAction SilentlyContinue }
    }
    BeforeEach { if ($mountProblem) { Set-ItResult -Skipped -Because $mountProblem } }

    It 'stops before sending anything when the header cannot be written' {
        if ($mountProblem) { return }
        $disk = New-SmallDisk '64k'
        Fill-Disk $disk
        Connect-To $emu
        $run = Invoke-Batch (Rows 'header' 20) @{ JournalPath = "$disk/j.jsonl"; KeyProperty = 'Id' }
        $run.Error.FullyQualifiedErrorId | Should -Be (& $InvokeFq 'JournalWriteFailed')
        $run.Error.Exception.Message | Should -Match 'No space left on device'
        (PromptCounts $emu 'header').Arrived | Should -Be 0
        $run.Answers.Count | Should -Be 0
        Write-Host "    figures (header): answered 0, journal lines 0, answers written $($run.Answers.Count)"
    }

    It 'stops mid-batch with JournalWriteFailed, keeps every paid answer in the journal or the output, and a rerun after freeing space sends only what is missing' {
        if ($mountProblem) { return }
        $disk = New-SmallDisk '64k'
        $journal = "$disk/j.jsonl"
        Connect-To $emu 5
        $rows = Rows 'midbatch' 400
        $run = Invoke-Batch $rows @{ JournalPath = $journal; KeyProperty = 'Id'; ThrottleLimit = 8 }
        $run.Error.FullyQualifiedErrorId | Should -Be (& $InvokeFq 'JournalWriteFailed')
        $run.Error.Exception.Message | Should -Match ([regex]::Escape($journal) + '.*No space left on device')
        $server = PromptCounts $emu 'midbatch'
        $kept = JournaledAnswers $journal
        Write-Host "    figures (mid-batch): answered $($server.Answered), journal lines $($kept.Count), answers written $($run.Answers.Count)"
        $server.Answered | Should -Be $run.Answers.Count -Because 'no paid answer is in neither place'
        $kept.Prompt | Where-Object { $_ -notin $run.Answers.Prompt } | Should -BeNullOrEmpty
        $server.Answered | Should -BeLessThan 400
        ($server.Answered - $kept.Count) | Should -BeLessOrEqual 16 -Because 'only requests already on the wire were answered after the failure'

        & mount -o remount,size=1m $disk
        $arrivedBefore = $server.Arrived
        $rerun = Invoke-Batch $rows @{ JournalPath = $journal; KeyProperty = 'Id'; ThrottleLimit = 8 }
        $rerun.Error | Should -BeNullOrEmpty
        $rerun.Answers.Count | Should -Be 400
        @($rerun.Answers | Where-Object FromJournal).Count | Should -Be $kept.Count
        $again = PromptCounts $emu 'midbatch'
        ($again.Answered - $server.Answered) | Should -Be (400 - $kept.Count) -Because 'the rerun sends only the rows the journal does not hold'
    }

    It 'stops at once when the disk fills while a row ahead waits on retries' {
        if ($mountProblem) { return }
        $disk = New-SmallDisk '48k'
        $journal = "$disk/j.jsonl"
        Connect-To $emu 8
        $run = Invoke-Batch (Rows 'retryahead' 600) @{ JournalPath = $journal; KeyProperty = 'Id'; ThrottleLimit = 8 }
        $run.Error.FullyQualifiedErrorId | Should -Be (& $InvokeFq 'JournalWriteFailed')
        $server = PromptCounts $emu 'retryahead'
        $kept = JournaledAnswers $journal
        Write-Host "    figures (retries ahead): answered $($server.Answered), journal lines $($kept.Count), answers written $($run.Answers.Count)"
        $server.Answered | Should -Be $run.Answers.Count
        ($server.Answered - $kept.Count) | Should -BeLessOrEqual 16
        $server.Answered | Should -BeLessThan 400 -Because 'no new request is sent after the journal failed'
    }

    It 'stops with JournalWriteFailed when the journal is deleted mid-batch, and every answer the server gave is written' {
        if ($mountProblem) { return }
        $disk = New-SmallDisk '1m'
        $journal = "$disk/j.jsonl"
        Connect-To $emu 5
        # Another process deletes the journal once it holds 20 lines, while the batch is sending.
        $remover = Start-Shell "until [ -f '$journal' ] && [ `$(wc -l < '$journal') -ge 20 ]; do sleep 0.02; done; rm '$journal'"
        try { $run = Invoke-Batch (Rows 'rmmid' 400) @{ JournalPath = $journal; KeyProperty = 'Id'; ThrottleLimit = 2 } }
        finally { if (-not $remover.WaitForExit(30000)) { $remover.Kill() } }
        $run.Error.FullyQualifiedErrorId | Should -Be (& $InvokeFq 'JournalWriteFailed')
        $run.Error.Exception.Message | Should -Match 'deleted or replaced'
        $server = PromptCounts $emu 'rmmid'
        Write-Host "    figures (deleted): answered $($server.Answered), journal lines 0 (deleted), answers written $($run.Answers.Count)"
        $server.Answered | Should -Be $run.Answers.Count
        $server.Answered | Should -BeLessThan 400
    }

    It 'stops with JournalWriteFailed when an ext4 error turns the volume read-only mid-batch; after a remount the journal holds its synced lines and a rerun sends only the rest' {
        if ($mountProblem) { return }
        # A loop-mounted ext4 image with errors=remount-ro; the kernel's trigger_fs_error makes a real ext4 error.
        $image = Join-Path $TestDrive 'volume.img'
        $disk = Join-Path ([IO.Path]::GetTempPath()) "calstudio-ext4-$PID"
        $null = New-Item -ItemType Directory $disk -Force
        & truncate -s 8M $image; & mkfs.ext4 -q -F $image 2>&1 | Out-Null
        & mount -o loop,errors=remount-ro $image $disk
        $mounts.Add($disk)
        $device = Split-Path -Leaf (& findmnt -n -o SOURCE $disk)
        $trigger = "/sys/fs/ext4/$device/trigger_fs_error"
        if (-not (Test-Path $trigger)) { Set-ItResult -Skipped -Because "this kernel has no $trigger to make an ext4 error"; return }
        $journal = "$disk/j.jsonl"
        Connect-To $emu 5
        $rows = Rows 'readonly' 400
        $remounter = Start-Shell "until [ -f '$journal' ] && [ `$(wc -l < '$journal') -ge 150 ]; do sleep 0.02; done; echo calstudio-test > '$trigger'"
        try { $run = Invoke-Batch $rows @{ JournalPath = $journal; KeyProperty = 'Id'; ThrottleLimit = 2 } }
        finally { if (-not $remounter.WaitForExit(60000)) { $remounter.Kill() } }
        $run.Error.FullyQualifiedErrorId | Should -Be (& $InvokeFq 'JournalWriteFailed')
        $run.Error.Exception.Message | Should -Match 'Read-only file system'
        $server = PromptCounts $emu 'readonly'
        $server.Answered | Should -Be $run.Answers.Count -Because 'no paid answer is in neither place'
        $server.Answered | Should -BeLessThan 400

        & umount $disk; & mount -o loop $image $disk # what reached the disk, as after a power loss
        $kept = JournaledAnswers $journal
        Write-Host "    figures (ext4 read-only): answered $($server.Answered), journal lines after remount $($kept.Count), answers written $($run.Answers.Count)"
        $kept.Count | Should -BeGreaterThan 0 -Because 'lines are fsynced about once a second, not only at the end'
        $rerun = Invoke-Batch $rows @{ JournalPath = $journal; KeyProperty = 'Id'; ThrottleLimit = 8 }
        $rerun.Error | Should -BeNullOrEmpty
        $rerun.Answers.Count | Should -Be 400
        ((PromptCounts $emu 'readonly').Answered - $server.Answered) | Should -Be (400 - $kept.Count)
    }

    It 'paces in memory with one warning and fails no row when the state folder is full' {
        if ($mountProblem) { return }
        $disk = New-SmallDisk '64k'
        Fill-Disk $disk
        $env:CALSTUDIO_STATE_DIR = $disk
        try {
            # A known rate makes the batch use the shared budget for every request.
            Connect-CalStudio -ApiKey (ConvertTo-SecureString $emu.Key -AsPlainText -Force) -BaseUri $emu.Uri -AppName journal -MaxRetries 8 `
                -RequestsPerMinute 6000 -WarningVariable connectWarned -WarningAction SilentlyContinue
            $answers = @(Rows 'statefull' 75 | Invoke-CalStudioPrompt -ThrottleLimit 8 -ErrorVariable failed -WarningVariable warned -WarningAction SilentlyContinue -ErrorAction SilentlyContinue)
        } finally { Remove-Item Env:CALSTUDIO_STATE_DIR }
        $failed | Should -BeNullOrEmpty
        $answers.Count | Should -Be 75
        # One warning for the command, as the README promises (Connect-CalStudio wrote nothing yet, so it had nothing to say).
        @($connectWarned).Count | Should -BeLessOrEqual 1
        @($warned | Where-Object { "$_" -match 'quota state file.*No space left' }).Count | Should -Be 1 -Because ($warned -join "`n")
        @($warned).Count | Should -Be 1
    }
}
