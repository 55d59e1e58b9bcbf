# The default views, rendered as a console of 80 and of 160 columns would show them, on real output objects.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:emu = Start-CalStudioEmulator
    Connect-CalStudio -ApiKey (ConvertTo-SecureString $emu.Key -AsPlainText -Force) -BaseUri $emu.Uri -AppName 'helpdesk'

    # A helpdesk export: no Prompt column, long bodies, so the answers are longer than any console.
    $script:tickets = 1..3 | ForEach-Object {
        [pscustomobject]@{ Id = "INC-100$_"; Subject = "printer $_"; Body = ("paper jam in tray $_ " * 12).Trim(); Owner = "ana" }
    }
    $script:answers = @($tickets | Invoke-CalStudioPrompt -Prompt { "Summarise: $($_.Subject) $($_.Body)" } -KeyProperty Id)

    # The table's lines below its header, without blank lines.
    function Get-TableLine([string] $text) { @($text -split '\r?\n' | Where-Object { $_.Trim() }) }
    function Get-AnswerCell([string] $line) { ($line -replace '^\S+\s+(True|False)\s+', '') }
}
AfterAll {
    Disconnect-CalStudio
    $script:emu | Stop-CalStudioEmulator
}

Describe 'The answer table' {
    It 'shows the -KeyProperty column, Success and the answer within 80 columns' {
        $lines = Get-TableLine ($answers | Out-String -Width 80)
        $lines[0] | Should -Match '^Row\s+Success\s+Answer\s*$'
        $lines.Count | Should -Be 5   # header, rule, three rows
        $lines[2..4] | ForEach-Object { $_ } | Should -Match '^INC-100[123]\s+True\s+helpdesk answers: Summarise: printer'
        ($lines[2..4] | ForEach-Object { $_.Substring(0, 8) }) | Should -Be 'INC-1001', 'INC-1002', 'INC-1003'
        foreach ($line in $lines) { $line.TrimEnd().Length | Should -BeLessOrEqual 80 -Because $line }
        # Cut where the console ends, with the one ellipsis style.
        $lines[2].TrimEnd() | Should -Match '…$'
        $lines[2] | Should -Not -Match '\.\.\.'
    }

    It 'gives a wider console more of the answer' {
        $narrow = Get-AnswerCell (Get-TableLine ($answers | Out-String -Width 80))[2]
        $wide = Get-AnswerCell (Get-TableLine ($answers | Out-String -Width 160))[2]
        $wide.TrimEnd().Length | Should -BeGreaterThan ($narrow.TrimEnd().Length + 60)
        $wide.TrimEnd('…', ' ') | Should -BeLike ($narrow.TrimEnd('…', ' ') + '*')
        foreach ($line in Get-TableLine ($answers | Out-String -Width 160)) { $line.TrimEnd().Length | Should -BeLessOrEqual 160 }
    }

    It 'shows the input row number without -KeyProperty' {
        $plain = @($tickets | Invoke-CalStudioPrompt -Prompt { "Row view: $($_.Subject)" })
        $lines = Get-TableLine ($plain | Out-String -Width 80)
        ($lines[2..4] | ForEach-Object { ($_ -split '\s+')[0] }) | Should -Be '1', '2', '3'
        $plain.RowNumber | Should -Be 1, 2, 3
        $plain.Key | Should -Be $null, $null, $null
    }

    It 'keeps the user''s columns on each answer' {
        $answers.Id | Should -Be 'INC-1001', 'INC-1002', 'INC-1003'
        $answers.Owner | Should -Be 'ana', 'ana', 'ana'
        $answers.Key | Should -Be 'INC-1001', 'INC-1002', 'INC-1003'
    }
}

Describe 'The history table (Get-CalStudioResponse)' {
    BeforeAll {
        $rows = @(
            [pscustomobject]@{ Id = 'T-1'; Prompt = 'history fine' }
            [pscustomobject]@{ Id = 'T-2'; Prompt = 'emu:status:400 history bad request ' + ('detail ' * 20) }
            [pscustomobject]@{ Id = 'T-3'; Prompt = '   ' }
        )
        $null = $rows | Invoke-CalStudioPrompt -KeyProperty Id -ErrorAction SilentlyContinue -ErrorVariable script:rowErrors
        $script:failed = @(Get-CalStudioResponse -Failed -Last 2)
    }

    It 'keeps each failed row''s key and input row number, without a journal' {
        $failed.Key | Should -Be 'T-2', 'T-3'
        $failed.RowNumber | Should -Be 2, 3
        $failed.ErrorId | Should -Be 'ApiBadRequest', 'InvalidPrompt'
    }

    It 'keeps the row and the whole ErrorId readable at 80 columns' {
        $lines = Get-TableLine ($failed | Out-String -Width 80)
        $lines[0] | Should -Match '^Completed\s+Row\s+Success\s+ErrorId\s+Result\s*$'
        $lines[2] | Should -Match '^\d\d-\d\d \d\d:\d\d:\d\d T-2\s+False\s+ApiBadRequest\s+\S'
        $lines[3] | Should -Match '^\d\d-\d\d \d\d:\d\d:\d\d T-3\s+False\s+InvalidPrompt\s+\S'
        foreach ($line in $lines) { $line.TrimEnd().Length | Should -BeLessOrEqual 80 -Because $line }
        $lines[2].TrimEnd() | Should -Match '…$' -Because 'the long error message is cut at the console''s edge'
    }

    It 'has room at 80 columns for every ErrorId the module writes' {
        $ids = @([CalStudio.Client.ErrorIds].GetFields('Public, Static') | ForEach-Object { $_.GetValue($null) })
        $ids.Count | Should -BeGreaterThan 10
        $template = $failed[0]
        foreach ($id in $ids) {
            $copy = [CalStudio.Response]::new()
            foreach ($p in 'CompletedAt', 'Key', 'RowNumber', 'ErrorMessage') { $copy.$p = $template.$p }
            $copy.ErrorId = $id
            $item = [psobject]::new($copy)
            $item.PSObject.TypeNames.Insert(0, 'CalStudio.Response#History')
            (Get-TableLine ($item | Out-String -Width 80))[2] | Should -Match "\s$id\s" -Because "$id must be readable whole"
        }
    }

    It 'gives a wider console more of the message' {
        $narrow = (Get-TableLine ($failed | Out-String -Width 80))[2].TrimEnd()
        $wide = (Get-TableLine ($failed | Out-String -Width 160))[2].TrimEnd()
        $wide.Length | Should -BeGreaterThan ($narrow.Length + 40)
    }
}
