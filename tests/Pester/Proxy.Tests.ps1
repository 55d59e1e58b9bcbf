# Proxies, over real sockets with a real proxy (tests/Support/TestProxy.cs) that records everything it receives:
# a proxy URL's login works and is never shown, plain http never leaves the machine (not even through the environment's
# proxy), an https target shows a proxy only CONNECT, and a proxy's 407 stops the batch once, without retries.
BeforeAll {
    $script:ModulePath = (Resolve-Path (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1')).Path
    Import-Module $ModulePath -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/SecurityKit.psm1') -Force
    if (-not ('CalStudioTestProxy' -as [type])) { Add-Type -Path (Join-Path $PSScriptRoot '../Support/TestProxy.cs') }
    $script:Fq = { param($id, $cmd = 'InvokeCalStudioPrompt') "$id,CalStudio.Commands.${cmd}Command" }
    $script:k = "cs_live_PROXY_$([guid]::NewGuid().ToString('N'))"
    $script:key = ConvertTo-SecureString $k -AsPlainText -Force
    $script:emu = Start-CalStudioEmulator -Key $k
    $script:rows = 1..3 | ForEach-Object { [pscustomobject]@{ Id = "r$_"; Prompt = "row $_ through the proxy" } }
    function Basic([string] $User, [string] $Password) { 'Basic ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("${User}:$Password")) }
    function Get-EmuCount { (Get-CalStudioEmulatorStats $emu -NoPrompts).requests }
}
AfterAll {
    Disconnect-CalStudio
    $script:emu | Stop-CalStudioEmulator
}

Describe 'A proxy URL with user info' {
    BeforeEach { Disconnect-CalStudio; Reset-CalStudioEmulator $emu }

    It 'logs in with the user info, percent-decoded, and keeps and shows only the address without it' {
        $proxy = [CalStudioTestProxy]::new('alice', 'p@ss:w0rd/1')
        try {
            $url = "http://alice:p%40ss%3Aw0rd%2F1@127.0.0.1:$($proxy.Port)"
            $verbose = Connect-CalStudio -ApiKey $key -BaseUri $emu.Uri -AppName proxied -MaxRetries 0 -Proxy $url -PassThru -Verbose 4>&1
            $connection = @($verbose | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })[0]
            $connection.Proxy.AbsoluteUri | Should -BeExactly "http://127.0.0.1:$($proxy.Port)/"
            ($verbose | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Match ([regex]::Escape("through the proxy http://127.0.0.1:$($proxy.Port)/."))

            $r = Invoke-CalStudioPrompt -Prompt 'logged in by user info'
            $r.Message | Should -Be 'proxied answers: logged in by user info'
            $proxy.Challenges | Should -Be 1 -Because 'the first request goes without the login and is challenged'
            ($proxy.Heads -join "`n") | Should -Match ([regex]::Escape('Proxy-Authorization: ' + (Basic 'alice' 'p@ss:w0rd/1')))

            $shown = (Get-CalStudioConnection | Format-List * -Force | Out-String) + (Get-CalStudioConnection | ConvertTo-Json) + ($verbose | Out-String)
            foreach ($needle in 'p@ss', 'p%40ss', 'w0rd', 'alice') { $shown | Should -Not -Match ([regex]::Escape($needle)) }
        }
        finally { $proxy.Dispose() }
    }

    It 'refuses user info together with -ProxyCredential as InvalidProxy, naming the proxy without the password' {
        $cred = [pscredential]::new('bob', (ConvertTo-SecureString 'other' -AsPlainText -Force))
        $err = $null
        try { Connect-CalStudio -ApiKey $key -BaseUri $emu.Uri -Proxy 'http://alice:s3cr3t@127.0.0.1:3128' -ProxyCredential $cred } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be (& $Fq 'InvalidProxy' 'ConnectCalStudio')
        $err.Exception.Message | Should -Match ([regex]::Escape('http://127.0.0.1:3128/'))
        $err.Exception.Message | Should -Match '-ProxyCredential'
        ($err | Format-List * -Force | Out-String) + $err.TargetObject | Should -Not -Match 's3cr3t'
        Get-CalStudioConnection | Should -BeNullOrEmpty
    }

    It 'refuses a -Proxy that is not a URL as InvalidProxy, without echoing it' {
        $err = $null
        try { Connect-CalStudio -ApiKey $key -Proxy 'alice:s3cr3t@proxy.contoso.com:8080' } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be (& $Fq 'InvalidProxy' 'ConnectCalStudio')
        ($err | Format-List * -Force | Out-String) + $err.ErrorDetails | Should -Not -Match 's3cr3t'
    }
}

Describe 'Plain http stays on the machine' {
    BeforeEach { Disconnect-CalStudio; Reset-CalStudioEmulator $emu }

    It 'refuses a proxy off the machine for http://<Target> with InsecureProxy, before anything is sent' -ForEach @(
        @{ Target = '127.0.0.1'; Proxy = 'http://192.0.2.10:8080' }
        @{ Target = 'localhost'; Proxy = 'http://proxy.contoso.com:3128' }
        @{ Target = '[::1]'; Proxy = 'http://user:pw@10.1.2.3:8080' }
    ) {
        $err = $null
        try { Connect-CalStudio -ApiKey $key -BaseUri "http://$($Target):$($emu.Uri.Port)" -Proxy $Proxy } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be (& $Fq 'InsecureProxy' 'ConnectCalStudio')
        $err.CategoryInfo.Category | Should -Be 'SecurityError'
        $err.Exception.Message | Should -Match 'unencrypted'
        $err.Exception.Message | Should -Not -Match 'user:pw'
        Get-CalStudioConnection | Should -BeNullOrEmpty
    }

    It 'accepts a proxy off the machine for an https target (TLS runs through it)' {
        $c = Connect-CalStudio -ApiKey $key -BaseUri 'https://calstudio.com' -Proxy 'http://192.0.2.10:8080' -PassThru
        $c.Proxy.AbsoluteUri | Should -Be 'http://192.0.2.10:8080/'
    }

    It 'sends a loopback http target through a loopback -Proxy: the proxy receives the request itself' {
        $proxy = [CalStudioTestProxy]::new([NullString]::Value, [NullString]::Value)
        try {
            Connect-CalStudio -ApiKey $key -BaseUri $emu.Uri -AppName proxied -MaxRetries 0 -Proxy $proxy.Address
            (Invoke-CalStudioPrompt -Prompt 'via the proxy').Message | Should -Be 'proxied answers: via the proxy'
            $proxy.RequestLines | Should -Be @("POST http://127.0.0.1:$($emu.Uri.Port)/getbackResponse HTTP/1.1")
            $proxy.Heads[0] | Should -Match 'User-Agent: CalStudio\.PowerShell/'
            $proxy.Bodies[0] | Should -Match 'via the proxy'
            $proxy.Forwards | Should -Be 1
            Get-EmuCount | Should -Be 1
        }
        finally { $proxy.Dispose() }
    }

    It 'ignores HTTP_PROXY, HTTPS_PROXY and ALL_PROXY for a loopback target: the proxy receives nothing' {
        $proxy = [CalStudioTestProxy]::new([NullString]::Value, [NullString]::Value)
        try {
            # Both spellings (Linux reads either), and no NO_PROXY inherited that would exempt loopback by itself.
            $environment = [hashtable]::new([StringComparer]::Ordinal)
            foreach ($name in 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy') { $environment[$name] = $proxy.Address }
            $environment['NO_PROXY'] = ''; $environment['no_proxy'] = ''
            $environment['CS_TEST_MODULE'] = $ModulePath; $environment['CS_TEST_KEY'] = $k; $environment['CS_TEST_PORT'] = $emu.Uri.Port
            $environment['CALSTUDIO_STATE_DIR'] = Join-Path $TestDrive 'env-proxy-state'
            $child = Invoke-Child -Environment $environment -Script @'
Import-Module $env:CS_TEST_MODULE
$key = ConvertTo-SecureString $env:CS_TEST_KEY -AsPlainText -Force
foreach ($h in '127.0.0.1', 'localhost') {
    Connect-CalStudio -ApiKey $key -BaseUri "http://$($h):$($env:CS_TEST_PORT)" -AppName direct -MaxRetries 0
    "ANSWER=$((Invoke-CalStudioPrompt -Prompt "direct to $h").Message)"
}
# The control: the same environment does send a target that is not loopback to the proxy.
Connect-CalStudio -ApiKey $key -BaseUri 'https://calstudio.invalid' -AppName direct -MaxRetries 0 -TimeoutSec 30
$null = Invoke-CalStudioPrompt -Prompt 'elsewhere' -ErrorVariable errs -ErrorAction SilentlyContinue
"CONTROL=$($errs[0].FullyQualifiedErrorId)"
'@
            $child.Stdout | Should -Match 'ANSWER=direct answers: direct to 127\.0\.0\.1' -Because $child.Stderr
            $child.Stdout | Should -Match 'ANSWER=direct answers: direct to localhost'
            Get-EmuCount | Should -Be 2
            $proxy.RequestLines | Should -Be @('CONNECT calstudio.invalid:443 HTTP/1.1') -Because 'only the control went through the environment''s proxy'
        }
        finally { $proxy.Dispose() }
    }
}

Describe 'An https target through a proxy' {
    BeforeAll {
        $script:pki = New-TestPki -Dir (Join-Path $TestDrive 'pki')
        $script:tls = Start-CalStudioEmulator -Key $k -ArgumentList '--https', '--cert', $pki.Pfx, '--cert-password', $pki.Password
    }
    AfterAll { $script:tls | Stop-CalStudioEmulator }

    It 'shows the proxy only CONNECT host:port: no path, no key, no prompt, and the tunnel carries TLS' {
        $proxy = [CalStudioTestProxy]::new('carol', 'tunnel-pass')
        try {
            $child = Invoke-Child -Environment @{
                SSL_CERT_FILE = $pki.CaPem; CS_TEST_MODULE = $ModulePath; CS_TEST_KEY = $k; CS_TEST_PORT = $tls.Uri.Port
                CS_TEST_PROXY = "http://carol:tunnel-pass@127.0.0.1:$($proxy.Port)"; CALSTUDIO_STATE_DIR = (Join-Path $TestDrive 'tunnel-state')
            } -Script @'
Import-Module $env:CS_TEST_MODULE
Connect-CalStudio -ApiKey (ConvertTo-SecureString $env:CS_TEST_KEY -AsPlainText -Force) -BaseUri "https://localhost:$($env:CS_TEST_PORT)" -AppName tunnel -MaxRetries 0 -Proxy $env:CS_TEST_PROXY
"ANSWER=$((Invoke-CalStudioPrompt -Prompt 'secret prompt in the tunnel').Message)"
'@
            $child.Stdout | Should -Match 'ANSWER=tunnel answers: secret prompt in the tunnel' -Because $child.Stderr
            $proxy.RequestLines | Should -Be @("CONNECT localhost:$($tls.Uri.Port) HTTP/1.1", "CONNECT localhost:$($tls.Uri.Port) HTTP/1.1") -Because 'challenged once, then logged in'
            $proxy.Connects | Should -Be 1
            $proxy.TunnelledBytes | Should -BeGreaterThan 0
            foreach ($needle in $k, 'getbackResponse', 'secret prompt in the tunnel', 'tunnel-pass') {
                $proxy.Everything | Should -Not -Match ([regex]::Escape($needle)) -Because 'the proxy sees only the CONNECT and TLS records'
            }
        }
        finally { $proxy.Dispose() }
    }
}

Describe 'A proxy''s 407 is the proxy''s' {
    BeforeEach { Disconnect-CalStudio; Reset-CalStudioEmulator $emu }

    It 'stops the batch with ProxyAuthenticationRequired for a <Kind> target, never retried: one <Line> for 3 rows' -ForEach @(
        @{ Kind = 'http'; Line = 'request' }
        @{ Kind = 'https'; Line = 'CONNECT' }
    ) {
        $proxy = [CalStudioTestProxy]::new('dave', 'right-pass')
        try {
            $base = if ($Kind -eq 'http') { $emu.Uri } else { 'https://calstudio.com' }
            Connect-CalStudio -ApiKey $key -BaseUri $base -AppName proxied -MaxRetries 2 -RetryDelaySec 0 -ThrottleLimit 1 -Proxy $proxy.Address
            $err = $null; $out = @()
            try { $rows | Invoke-CalStudioPrompt -KeyProperty Id | ForEach-Object { $out += $_ } } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be (& $Fq 'ProxyAuthenticationRequired')
            $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
            $err.Exception.Message | Should -Match ([regex]::Escape("The proxy http://127.0.0.1:$($proxy.Port)/ refused"))
            $err.Exception.Message | Should -Match '-ProxyCredential'
            $err.Exception.Message | Should -Not -Match 'API rejected the key'
            $err.Exception.StatusCode | Should -Be 407
            $out.Count | Should -Be 0
            $proxy.Heads.Count | Should -Be 1 -Because 'a 407 is neither retried nor sent again for the other rows'
            if ($Kind -eq 'https') { $proxy.RequestLines[0] | Should -Be 'CONNECT calstudio.com:443 HTTP/1.1' }
            else { $proxy.RequestLines[0] | Should -Match '^POST http://127\.0\.0\.1:\d+/getbackResponse ' }
            Get-EmuCount | Should -Be 0
        }
        finally { $proxy.Dispose() }
    }

    It 'names the proxy and stops the same way when the credential given is wrong; a journaled rerun with the right one sends every row' {
        $proxy = [CalStudioTestProxy]::new('erin', 'right-pass')
        try {
            $journal = Join-Path $TestDrive 'p407.jsonl'
            $wrong = [pscredential]::new('erin', (ConvertTo-SecureString 'wrong-pass' -AsPlainText -Force))
            Connect-CalStudio -ApiKey $key -BaseUri $emu.Uri -AppName proxied -MaxRetries 2 -RetryDelaySec 0 -ThrottleLimit 1 -Proxy $proxy.Address -ProxyCredential $wrong
            { $rows | Invoke-CalStudioPrompt -KeyProperty Id -JournalPath $journal } | Should -Throw -ErrorId (& $Fq 'ProxyAuthenticationRequired')
            $proxy.Heads.Count | Should -Be 2 -Because 'one attempt: challenged, then refused with the wrong login'
            ($proxy.Heads[1]) | Should -Match ([regex]::Escape('Proxy-Authorization: ' + (Basic 'erin' 'wrong-pass')))
            Get-EmuCount | Should -Be 0

            $right = [pscredential]::new('erin', (ConvertTo-SecureString 'right-pass' -AsPlainText -Force))
            Connect-CalStudio -ApiKey $key -BaseUri $emu.Uri -AppName proxied -MaxRetries 2 -Proxy $proxy.Address -ProxyCredential $right
            $answers = @($rows | Invoke-CalStudioPrompt -KeyProperty Id -JournalPath $journal)
            $answers.Key | Should -Be 'r1', 'r2', 'r3'
            $answers.FromJournal | Should -Not -Contain $true -Because 'the refused row was not journaled as done'
            Get-EmuCount | Should -Be 3
        }
        finally { $proxy.Dispose() }
    }
}
