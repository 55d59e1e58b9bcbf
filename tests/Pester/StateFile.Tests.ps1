# The quota state file unusable: read-only, a folder in its place, its folder impossible to create, or its lock held by
# another process. Connect-CalStudio and a paced batch carry on in this process with one warning each, and lose no row.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:key = "cs_test_$([guid]::NewGuid().ToString('N'))"
    $script:emu = Start-CalStudioEmulator -Key $key
    $script:savedStateDir = $env:CALSTUDIO_STATE_DIR
    $script:secret = ConvertTo-SecureString $key -AsPlainText -Force
    $script:undo = [System.Collections.Generic.List[scriptblock]]::new()

    # Advanced, so -WarningVariable on it collects what Connect-CalStudio warns.
    function Connect-Paced {
        [CmdletBinding()] param()
        Connect-CalStudio -ApiKey $secret -BaseUri $emu.Uri -AppName state -RequestsPerMinute 1200 -RetryDelaySec 0.1
    }

    # A state folder with the key's file in it, as a first run leaves it; returns the file's path.
    function New-StateFile([string] $name) {
        $env:CALSTUDIO_STATE_DIR = Join-Path $TestDrive $name
        Connect-Paced -WarningVariable w -WarningAction SilentlyContinue
        $first = Invoke-CalStudioPrompt -Prompt "first $name" -WarningVariable +w -WarningAction SilentlyContinue
        $first.Success | Should -BeTrue
        @($w).Count | Should -Be 0
        $files = @(Get-ChildItem $env:CALSTUDIO_STATE_DIR -Filter *.budget)
        $files.Count | Should -Be 1
        $files[0].FullName
    }

    function Test-StateFileWarnings($warnings) { @($warnings | Where-Object { "$_" -match 'quota state file .* CALSTUDIO_STATE_DIR' }).Count }

    # Connect, one 20-row batch and Get-CalStudioConnection with the state file unusable: every row answered,
    # none failed, one warning from Connect and one from the batch.
    function Assert-BatchInMemory([string] $label) {
        Reset-CalStudioEmulator $emu
        Connect-Paced -WarningVariable connectWarnings -WarningAction SilentlyContinue
        Test-StateFileWarnings $connectWarnings | Should -Be 1
        "$connectWarnings" | Should -Not -Match ([regex]::Escape($key))

        $rows = 1..20 | ForEach-Object { [pscustomobject]@{ Id = $_; Prompt = "$label row $_" } }
        $out = $rows | Invoke-CalStudioPrompt -ThrottleLimit 4 -WarningVariable batchWarnings -WarningAction SilentlyContinue `
            -ErrorVariable rowErrors -ErrorAction SilentlyContinue
        @($out).Count | Should -Be 20
        @($out | Where-Object Success).Count | Should -Be 20
        $out.Id | Should -Be (1..20)
        @($rowErrors | ForEach-Object { $_ }).Count | Should -Be 0
        Test-StateFileWarnings $batchWarnings | Should -Be 1
        (Get-CalStudioEmulatorStats $emu -NoPrompts).requests | Should -Be 20

        $connection = Get-CalStudioConnection -WarningAction SilentlyContinue
        $connection.RequestsPerMinute | Should -Be 1200
    }
}

AfterAll {
    $env:CALSTUDIO_STATE_DIR = $savedStateDir
    $emu | Stop-CalStudioEmulator
}

Describe 'An unusable quota state file' {
    # Before Pester removes TestDrive: the immutable attribute off, the lock holder's process tree killed.
    AfterEach {
        for ($i = $undo.Count - 1; $i -ge 0; $i--) { try { & $undo[$i] } catch { Write-Warning "cleanup: $_" } }
        $undo.Clear()
        $env:CALSTUDIO_STATE_DIR = $savedStateDir
    }

    It 'a read-only state file (immutable on Linux, where root ignores the mode bits)' {
        $file = New-StateFile 'read-only'
        $before = Get-Content $file -Raw
        $before | Should -Match '^\d+( \d+){7,}( [a-z]+:\S+)* *$'
        Set-ItemProperty $file -Name IsReadOnly -Value $true
        $undo.Add({ Set-ItemProperty $file -Name IsReadOnly -Value $false }.GetNewClosure())
        if (-not $IsWindows -and (Get-Command chattr -ErrorAction Ignore)) {
            chattr +i $file
            $undo.Add({ chattr -i $file }.GetNewClosure())
        }
        { [System.IO.File]::OpenWrite($file).Dispose() } | Should -Throw

        Assert-BatchInMemory 'read-only'
        Get-Content $file -Raw | Should -BeExactly $before
    }

    It 'a folder where the state file should be' {
        $file = New-StateFile 'folder-at-path'
        Remove-Item $file
        $null = New-Item -ItemType Directory -Path $file

        Assert-BatchInMemory 'folder'
        Test-Path $file -PathType Container | Should -BeTrue
    }

    It 'a CALSTUDIO_STATE_DIR that cannot be created (a regular file is in its way)' {
        # Root ignores permissions, so "unwritable" here is a folder path under a regular file.
        $blocker = Join-Path $TestDrive 'blocker'
        Set-Content -Path $blocker -Value 'not a folder'
        $env:CALSTUDIO_STATE_DIR = Join-Path $blocker 'state'

        Assert-BatchInMemory 'no-folder'
        Get-Content $blocker | Should -Be 'not a folder'
    }

    It 'the state file locked by another process' {
        $file = New-StateFile 'locked'
        $holder = Start-PwshProcess -Script @"
`$held = [System.IO.FileStream]::new('$file', 'Open', 'ReadWrite', 'None')
'locked'
Start-Sleep -Seconds 300
"@
        $undo.Add({ if (-not $holder.HasExited) { $holder.Kill($true) }; $holder.Dispose() }.GetNewClosure())
        $holder.StandardOutput.ReadLine() | Should -Be 'locked'
        { [System.IO.FileStream]::new($file, 'Open', 'ReadWrite', 'None').Dispose() } | Should -Throw

        Assert-BatchInMemory 'locked'
        $holder.HasExited | Should -BeFalse
        $holder.Kill($true)
        $holder.WaitForExit()

        # With the lock free again, the next batch goes back to the file and says nothing.
        $more = 1..3 | ForEach-Object { "after the lock $_" } | Invoke-CalStudioPrompt -WarningVariable after -WarningAction SilentlyContinue
        @($more | Where-Object Success).Count | Should -Be 3
        Test-StateFileWarnings $after | Should -Be 0
        (Get-Content $file -Raw) | Should -Match '^\d+( \d+){7,}( [a-z]+:\S+)* *$'
    }
}
