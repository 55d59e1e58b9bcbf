BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:emu = Start-CalStudioEmulator
    $script:key = ConvertTo-SecureString $emu.Key -AsPlainText -Force
}
AfterAll {
    Disconnect-CalStudio
    $script:emu | Stop-CalStudioEmulator
}

Describe 'Connect-CalStudio' {
    BeforeEach { Disconnect-CalStudio; Remove-Item Env:CALSTUDIO_API_KEY -ErrorAction Ignore }

    It 'connects with -ApiKey and shows only the key hint' {
        $c = Connect-CalStudio -ApiKey $key -BaseUri $emu.Uri -AppName app1 -PassThru
        $c.PSObject.TypeNames | Should -Contain 'CalStudio.Connection'
        $c.KeyHint | Should -Be ('...' + $emu.Key.Substring($emu.Key.Length - 3))
        $c.AppName | Should -Be 'app1'
        $c.TimeoutSec | Should -Be 120
        $c.BaseUri | Should -Be $emu.Uri
        ($c | Format-List * | Out-String) | Should -Not -Match $emu.Key
        ($c | ConvertTo-Json) | Should -Not -Match $emu.Key
    }

    It 'takes the key from CALSTUDIO_API_KEY when -ApiKey is not given' {
        $env:CALSTUDIO_API_KEY = $emu.Key
        Connect-CalStudio -BaseUri $emu.Uri -AppName app1
        (Invoke-CalStudioPrompt -Prompt 'env key').Success | Should -BeTrue
    }

    It 'prefers -ApiKey over the environment' {
        $env:CALSTUDIO_API_KEY = 'cs_wrong_key_from_env'
        Connect-CalStudio -ApiKey $key -BaseUri $emu.Uri -AppName app1
        (Invoke-CalStudioPrompt -Prompt 'param key').Success | Should -BeTrue
    }

    It 'fails in a non-interactive session with no key, naming both ways to give one' {
        { Connect-CalStudio -BaseUri $emu.Uri } | Should -Throw -ErrorId 'NoApiKey,CalStudio.Commands.ConnectCalStudioCommand'
        try { Connect-CalStudio -BaseUri $emu.Uri } catch { $err = $_ }
        $err.Exception.Message | Should -Match '-ApiKey'
        $err.Exception.Message | Should -Match 'CALSTUDIO_API_KEY'
    }

    It 'refuses plain http to a host that is not loopback, before any request' -ForEach @(
        @{ Uri = 'http://calstudio.com' }, @{ Uri = 'http://10.1.2.3:8080' }, @{ Uri = 'http://localhost.example.com' }
    ) {
        { Connect-CalStudio -ApiKey $key -BaseUri $Uri } | Should -Throw -ErrorId 'InsecureBaseUri,CalStudio.Commands.ConnectCalStudioCommand'
        Get-CalStudioConnection -ErrorVariable noConnection | Should -BeNullOrEmpty -Because 'no connection: nothing, and no error'; $noConnection | Should -BeNullOrEmpty
    }

    It 'accepts http for loopback hosts' -ForEach @(@{ H = 'localhost' }, @{ H = '127.0.0.1' }, @{ H = '[::1]' }) {
        Connect-CalStudio -ApiKey $key -BaseUri "http://$($H):9" -PassThru | Should -Not -BeNullOrEmpty
    }

    It 'defaults to https://calstudio.com' {
        (Connect-CalStudio -ApiKey $key -PassThru).BaseUri.AbsoluteUri | Should -Be 'https://calstudio.com/'
    }
}

Describe 'Get-CalStudioConnection and Disconnect-CalStudio' {
    It 'writes nothing for Get-CalStudioConnection and errors clearly for Invoke-CalStudioPrompt when not connected' {
        Disconnect-CalStudio
        Get-CalStudioConnection -ErrorVariable noConnection | Should -BeNullOrEmpty -Because 'no connection: nothing, and no error'; $noConnection | Should -BeNullOrEmpty
        { Invoke-CalStudioPrompt -Prompt x } | Should -Throw -ErrorId 'NotConnected,CalStudio.Commands.InvokeCalStudioPromptCommand'
    }

    It 'shows the connection with its default table view and forgets it on disconnect' {
        Connect-CalStudio -ApiKey $key -BaseUri $emu.Uri -AppName app1 -TimeoutSec 30
        $c = Get-CalStudioConnection
        $c.TimeoutSec | Should -Be 30
        ($c | Out-String) | Should -Match 'KeyHint'
        $c.ToString() | Should -Not -Match $emu.Key
        Disconnect-CalStudio
        Get-CalStudioConnection -ErrorVariable noConnection | Should -BeNullOrEmpty -Because 'no connection: nothing, and no error'; $noConnection | Should -BeNullOrEmpty
    }
}
