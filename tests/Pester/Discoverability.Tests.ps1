BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:emu = Start-CalStudioEmulator
    Connect-CalStudio -ApiKey (ConvertTo-SecureString $emu.Key -AsPlainText -Force) -BaseUri $emu.Uri -AppName 'helpdesk'
    $null = Invoke-CalStudioPrompt -Prompt 'one' -AppName 'history-app'
    function Complete([string] $line) { (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText }
}
AfterAll {
    Disconnect-CalStudio
    $script:emu | Stop-CalStudioEmulator
}

Describe 'Argument completion' {
    It 'completes -AppName from the connection and the session history' {
        $names = Complete 'Invoke-CalStudioPrompt -AppName '
        $names | Should -Contain 'helpdesk'
        $names | Should -Contain 'history-app'
        Complete 'Get-CalStudioResponse -AppName hist' | Should -Be 'history-app'
    }

    It 'completes -AppName from a journal named on the same command line' {
        $journal = Join-Path $TestDrive 'j.jsonl'
        $null = Invoke-CalStudioPrompt -Prompt 'journaled' -AppName 'journal-only-app' -JournalPath $journal
        Disconnect-CalStudio
        Complete "Invoke-CalStudioPrompt -JournalPath '$journal' -AppName jour" | Should -Be 'journal-only-app'
        Connect-CalStudio -ApiKey (ConvertTo-SecureString $emu.Key -AsPlainText -Force) -BaseUri $emu.Uri -AppName 'helpdesk'
    }

    It 'completes -Plan with the plan names' {
        Complete 'Connect-CalStudio -Plan ' | Should -Be @('Free', 'Lite', 'Pro', 'ProPlus')
    }

    It 'knows the output properties after a pipe ([OutputType])' {
        Complete 'Invoke-CalStudioPrompt x | Select-Object -Property Mess' | Should -Contain 'Message'
        Complete 'Get-CalStudioConnection | Select-Object -Property KeyH' | Should -Be 'KeyHint'
    }
}

Describe 'Format views' {
    It 'shows responses as a table of Row, Success and Answer' {
        $text = Invoke-CalStudioPrompt -Prompt 'table view' | Out-String
        $text | Should -Match 'Row\s+Success\s+Answer'
        $text | Should -Match 'helpdesk answers: table view'
    }

    It 'has a list view with the whole message' {
        $long = 'long ' * 40
        $text = Invoke-CalStudioPrompt -Prompt $long | Format-List | Out-String -Width 400
        $text | Should -Match 'Attempts\s+: 1'
        ($text -replace '\s+', ' ') | Should -Match ([regex]::Escape(("helpdesk answers: $long" -replace '\s+', ' ').Trim()))
    }

    It 'shows the history with when and how each row ended' {
        $text = Get-CalStudioResponse | Out-String
        $text | Should -Match 'Completed\s+Row\s+Success\s+ErrorId\s+Result'
    }

    It 'shows the connection without the key' {
        $text = Get-CalStudioConnection | Out-String
        $text | Should -Match 'KeyHint'
        $text | Should -Not -Match $emu.Key
    }
}
