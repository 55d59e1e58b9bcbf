# The security promises of SECURITY.md: the key never leaks, certificate validation is always on,
# redirects are not followed, a proxy is honoured, the User-Agent names the module, and bad input is refused before sending.
BeforeAll {
    $script:ModulePath = (Resolve-Path (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1')).Path
    Import-Module $ModulePath -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:Fq = { param($id) "$id,CalStudio.Commands.InvokeCalStudioPromptCommand" }
    $script:ModuleVersion = (Import-PowerShellDataFile $ModulePath).ModuleVersion
    $script:StateDir = if ($env:CALSTUDIO_STATE_DIR) { $env:CALSTUDIO_STATE_DIR } else { Join-Path $TestDrive 'state' }

    function New-SecretKey([string] $Kind = 'SECRET') { "cs_live_${Kind}_$([guid]::NewGuid().ToString('N'))" }

    # Emulator probes that also work against the https emulator with its throwaway certificate (the test's own calls,
    # not the module's, skip the check), and that unroll the JSON array (Invoke-RestMethod emits [] as one object).
    function EmuUri($Emulator, [string] $Path) { "$($Emulator.Uri.AbsoluteUri.TrimEnd('/'))/_emulator/$Path" }
    function Get-EmuRequests($Emulator, [int] $Last = 200) {
        @(Invoke-RestMethod -Uri (EmuUri $Emulator "requests?last=$Last") -NoProxy -SkipCertificateCheck | ForEach-Object { $_ })
    }
    function Get-EmuRequestCount($Emulator) { (Invoke-RestMethod -Uri (EmuUri $Emulator 'stats?prompts=false') -NoProxy -SkipCertificateCheck).requests }
    function Reset-Emu($Emulator) { $null = Invoke-RestMethod -Method Post -Uri (EmuUri $Emulator 'reset') -NoProxy -SkipCertificateCheck }

    # Invoke-Child (a script in a child pwsh) and New-TestPki (a throwaway CA and server certificate), shared with Proxy.Tests.
    Import-Module (Join-Path $PSScriptRoot '../Support/SecurityKit.psm1') -Force
    # A real loopback proxy (forwarding, CONNECT, Basic login) that records what it receives: the leak sweep logs in to one.
    if (-not ('CalStudioTestProxy' -as [type])) { Add-Type -Path (Join-Path $PSScriptRoot '../Support/TestProxy.cs') }
}
AfterAll {
    Disconnect-CalStudio
}

Describe 'The API key never leaks' {
    BeforeAll {
        $script:secret = New-SecretKey 'SECRET'
        $script:wrong = New-SecretKey 'WRONGKEY'
        $script:emu = Start-CalStudioEmulator -Key $secret
        # A loopback proxy that demands a login, given as user info in -Proxy: '@' and ':' in the password are percent-encoded.
        $script:proxyPassword = "Px@SECRET:$([guid]::NewGuid().ToString('N'))"
        $script:proxy = [CalStudioTestProxy]::new('proxyuser', $proxyPassword)
        $script:proxyUrl = "http://proxyuser:$([uri]::EscapeDataString($proxyPassword))@127.0.0.1:$($proxy.Port)"
        $script:proxyWrongUrl = "http://proxyuser:WRONG$([uri]::EscapeDataString($proxyPassword))@127.0.0.1:$($proxy.Port)"
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator; $script:proxy.Dispose() }

    It 'appears in no output, stream, error, transcript, journal, export or state file when given by <Source>' -ForEach @(
        @{ Source = '-ApiKey' }
        @{ Source = 'CALSTUDIO_API_KEY' }
    ) {
        $dir = Join-Path $TestDrive "leak-$($Source.TrimStart('-'))"
        $null = New-Item -ItemType Directory -Path $dir -Force
        $state = Join-Path $dir 'state'
        $environment = @{
            CS_TEST_MODULE = $ModulePath; CS_TEST_OUT = $dir; CS_TEST_URI = $emu.Uri.AbsoluteUri; CS_TEST_SOURCE = $Source
            CS_TEST_WRONG = $wrong; CALSTUDIO_STATE_DIR = $state; CS_TEST_PROXY = $proxyUrl; CS_TEST_PROXY_WRONG = $proxyWrongUrl
        }
        # The key reaches the child only through its environment, never through the script text (which $Error's
        # InvocationInfo and the transcript would quote).
        if ($Source -eq '-ApiKey') { $environment.CS_TEST_SECRET = $secret } else { $environment.CALSTUDIO_API_KEY = $secret }

        $child = Invoke-Child -Environment $environment -TimeoutSec 180 -Script @'
$ErrorActionPreference = 'Continue'
$out = $env:CS_TEST_OUT
Import-Module $env:CS_TEST_MODULE
$null = Start-Transcript -Path (Join-Path $out 'transcript.txt')
$VerbosePreference = 'Continue'; $DebugPreference = 'Continue'; $InformationPreference = 'Continue'
$emitted = [System.Collections.Generic.List[object]]::new()
if ($env:CS_TEST_SOURCE -eq '-ApiKey') {
    $secure = ConvertTo-SecureString ([Environment]::GetEnvironmentVariable('CS_TEST_SECRET')) -AsPlainText -Force
    [Environment]::SetEnvironmentVariable('CS_TEST_SECRET', $null)
    $c = Connect-CalStudio -ApiKey $secure -BaseUri $env:CS_TEST_URI -AppName leak-app -MaxRetries 1 -RetryDelaySec 0 -PassThru
} else {
    $c = Connect-CalStudio -BaseUri $env:CS_TEST_URI -AppName leak-app -MaxRetries 1 -RetryDelaySec 0 -PassThru
}
$emitted.Add($c); $c
$rows = @(
    [pscustomobject]@{ Id = 'ok1'; Prompt = 'a fine prompt' }
    [pscustomobject]@{ Id = 'e500'; Prompt = 'emu:500 server error' }
    [pscustomobject]@{ Id = 'e502'; Prompt = 'emu:html502 gateway page' }
    [pscustomobject]@{ Id = 'drop'; Prompt = 'emu:drop dropped' }
    [pscustomobject]@{ Id = 'hang'; Prompt = 'emu:hang never answers' }
    [pscustomobject]@{ Id = 'e400'; Prompt = 'emu:status:400 bad request' }
    [pscustomobject]@{ Id = 'unsucc'; Prompt = 'emu:unsuccessful no luck' }
    [pscustomobject]@{ Id = 'badjson'; Prompt = 'emu:badjson not json' }
    [pscustomobject]@{ Id = 'badurl'; Prompt = 'with a file'; FileUrl = 'file:///etc/passwd' }
    [pscustomobject]@{ Id = 'ok2'; Prompt = 'another fine prompt' }
)
$journal = Join-Path $out 'journal.jsonl'
$rows | Invoke-CalStudioPrompt -TimeoutSec 1 -JournalPath $journal -KeyProperty Id -Verbose -Debug | ForEach-Object { $emitted.Add($_); $_ }

# Through a proxy that demands a login: the login as user info in -Proxy, then with -ProxyCredential too, then a wrong one (407).
$keyArgs = if ($env:CS_TEST_SOURCE -eq '-ApiKey') { @{ ApiKey = $secure } } else { @{} }
$c = Connect-CalStudio @keyArgs -BaseUri $env:CS_TEST_URI -AppName leak-app -MaxRetries 1 -RetryDelaySec 0 -Proxy $env:CS_TEST_PROXY -PassThru -Verbose
$emitted.Add($c); $c
[pscustomobject]@{ Id = 'viaproxy'; Prompt = 'through the proxy' } | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id -Verbose | ForEach-Object { $emitted.Add($_); $_ }
$emitted.Add((Get-CalStudioConnection)); Get-CalStudioConnection | Format-List * -Force
$other = [pscredential]::new('other', (ConvertTo-SecureString 'other-pass' -AsPlainText -Force))
try { Connect-CalStudio @keyArgs -BaseUri $env:CS_TEST_URI -Proxy $env:CS_TEST_PROXY -ProxyCredential $other -Verbose } catch { "caught: $($_.FullyQualifiedErrorId)" }
Connect-CalStudio @keyArgs -BaseUri $env:CS_TEST_URI -AppName leak-app -MaxRetries 2 -RetryDelaySec 0 -Proxy $env:CS_TEST_PROXY_WRONG -Verbose
try { [pscustomobject]@{ Id = 'p407'; Prompt = 'refused by the proxy' } | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id -Verbose | ForEach-Object { $emitted.Add($_); $_ } }
catch { "caught: $($_.FullyQualifiedErrorId)" }
$env:CS_TEST_PROXY = $null; $env:CS_TEST_PROXY_WRONG = $null

# A rejected key at the end: one terminating 401.
if ($env:CS_TEST_SOURCE -eq '-ApiKey') {
    Connect-CalStudio -ApiKey (ConvertTo-SecureString $env:CS_TEST_WRONG -AsPlainText -Force) -BaseUri $env:CS_TEST_URI -AppName leak-app -MaxRetries 0
} else {
    $env:CALSTUDIO_API_KEY = $env:CS_TEST_WRONG
    Connect-CalStudio -BaseUri $env:CS_TEST_URI -AppName leak-app -MaxRetries 0
    $env:CALSTUDIO_API_KEY = $null
}
$env:CS_TEST_WRONG = $null
try { [pscustomobject]@{ Id = 'k401'; Prompt = 'after the key was revoked' } | Invoke-CalStudioPrompt -JournalPath $journal -KeyProperty Id | ForEach-Object { $emitted.Add($_); $_ } }
catch { "caught: $($_.FullyQualifiedErrorId)" }

$history = @(Get-CalStudioResponse)
$fromJournal = @(Get-CalStudioResponse -JournalPath $journal)
$connection = Get-CalStudioConnection
function Save([string] $name, $text) { Set-Content -LiteralPath (Join-Path $out $name) -Value ([string]$text) -Encoding utf8; $text }

Save 'connection-list.txt' ($connection | Format-List * | Out-String)
Save 'connection-list-force.txt' ($connection | Format-List * -Force | Out-String)
Save 'emitted.json' (($emitted + $history + $fromJournal + @($connection) | ForEach-Object { ConvertTo-Json -InputObject $_ -Depth 5 }) -join "`n")
$emitted | Export-Clixml -Path (Join-Path $out 'emitted.clixml') -Depth 5
$connection | Export-Clixml -Path (Join-Path $out 'connection.clixml') -Depth 5
$history | Export-Clixml -Path (Join-Path $out 'history.clixml') -Depth 5
$fromJournal | Export-Clixml -Path (Join-Path $out 'journal-read.clixml') -Depth 5
Save 'history-list.txt' ($history | Format-List * -Force | Out-String)
Save 'errors.txt' ($Error | Out-String)
Save 'errors-list.txt' ($Error | Format-List * -Force | Out-String)
$details = foreach ($e in $Error) {
    $r = if ($e -is [System.Management.Automation.ErrorRecord]) { $e } elseif ($e.ErrorRecord) { $e.ErrorRecord } else { $null }
    $x = if ($r) { $r.Exception } else { $e }
    "=== $($r.FullyQualifiedErrorId)"
    for ($i = $x; $i; $i = $i.InnerException) { $i.ToString(); $i | Format-List * -Force | Out-String }
    if ($r) {
        "ErrorDetails: $($r.ErrorDetails) / $($r.ErrorDetails.RecommendedAction)"
        "TargetObject: $($r.TargetObject | Format-List * -Force | Out-String)"
        $r.TargetObject | ConvertTo-Json -Depth 5
        $r.CategoryInfo | Format-List * | Out-String
        $r.InvocationInfo | Format-List * | Out-String
    }
}
Save 'error-details.txt' ($details -join "`n")
$Error | Export-Clixml -Path (Join-Path $out 'errors.clixml') -Depth 3
"ERRORCOUNT=$($Error.Count)"
$null = Stop-Transcript
'@
        $child.ExitCode | Should -Be 0 -Because $child.Stderr

        $captures = [ordered]@{ stdout = $child.Stdout; stderr = $child.Stderr }
        foreach ($f in Get-ChildItem -LiteralPath $dir -File -Recurse) { $captures[$f.Name] = [System.IO.File]::ReadAllText($f.FullName) }
        # State files are named by a hash: their names count as captures too.
        $captures['state file names'] = (Get-ChildItem -LiteralPath $state -Recurse -ErrorAction Ignore | ForEach-Object FullName) -join "`n"

        # The captures are real, so the test could fail: they hold what they should, the hint included.
        $hint = '...' + $secret.Substring($secret.Length - 4)
        foreach ($name in 'transcript.txt', 'journal.jsonl', 'connection-list.txt', 'emitted.json', 'emitted.clixml', 'errors.txt',
            'errors-list.txt', 'error-details.txt', 'errors.clixml', 'connection.clixml', 'history.clixml') {
            $captures[$name] | Should -Not -BeNullOrEmpty -Because "$name should have been written"
        }
        $captures['transcript.txt'] | Should -Match ([regex]::Escape($hint)) -Because 'the verbose line names the key by its hint'
        $captures['emitted.json'] | Should -Match ([regex]::Escape($hint))
        $captures['connection-list.txt'] | Should -Match 'KeyHint'
        $captures['stdout'] -match 'ERRORCOUNT=(\d+)' | Should -BeTrue
        [int]$Matches[1] | Should -BeGreaterOrEqual 9 -Because 'every failure kind and the 401 left an error'
        $captures['stdout'] | Should -Match 'caught: ApiKeyRejected'
        $captures['stdout'] | Should -Match 'caught: InvalidProxy'
        $captures['stdout'] | Should -Match 'caught: ProxyAuthenticationRequired'
        $captures['transcript.txt'] | Should -Match ([regex]::Escape("through the proxy http://127.0.0.1:$($proxy.Port)/")) -Because 'the verbose line names the proxy, without its login'
        $captures['transcript.txt'] | Should -Match 'leak-app answers: through the proxy' -Because 'the user info logged in to the proxy'
        foreach ($id in 'ApiServerError', 'ApiConnectionFailed', 'ApiTimeout', 'ApiBadRequest', 'ApiUnsuccessful', 'ApiInvalidResponse', 'InvalidFileUrl', 'ApiKeyRejected',
            'InvalidProxy', 'ProxyAuthenticationRequired') {
            $captures['errors-list.txt'] | Should -Match $id
        }
        $captures['journal.jsonl'] | Should -Match 'ok2'
        $captures['transcript.txt'] | Should -Match 'leak-app answers: a fine prompt'
        (Get-EmuRequests $emu).body -join "`n" | Should -Match ([regex]::Escape($secret)) -Because 'the key did reach the API (the only place it belongs)'

        $basic = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("proxyuser:$proxyPassword"))
        ($proxy.Heads -join "`n") | Should -Match ([regex]::Escape("Proxy-Authorization: Basic $basic")) -Because 'the proxy got the decoded login'

        # Nowhere: neither key, nor the part of it left after removing the hint, nor the proxy's password in any form.
        $needles = @($secret, $wrong, $secret.Substring(0, $secret.Length - 4), $wrong.Substring(0, $wrong.Length - 4), $secret.Substring(15, 20),
            $proxyPassword, [uri]::EscapeDataString($proxyPassword), $proxyPassword.Substring(10), $basic, 'proxyuser:')
        foreach ($name in $captures.Keys) {
            foreach ($needle in $needles) {
                $captures[$name].Contains($needle) | Should -BeFalse -Because "$name must not contain the key (or most of it) or the proxy's login"
            }
        }
    }
}

Describe 'Where the key comes from' {
    BeforeAll {
        $script:k = New-SecretKey 'SOURCE'
        $script:emu = Start-CalStudioEmulator -Key $k
        # SecretManagement is not installed here: this stands in for its Get-Secret, which returns a SecureString.
        $script:vault = @{ CalStudio = $k }
        function Get-Secret([Parameter(Mandatory)][string] $Name) { ConvertTo-SecureString $script:vault[$Name] -AsPlainText -Force }
    }
    AfterAll {
        Remove-Item Env:CALSTUDIO_API_KEY -ErrorAction Ignore
        $script:emu | Stop-CalStudioEmulator
    }
    BeforeEach { Disconnect-CalStudio; Remove-Item Env:CALSTUDIO_API_KEY -ErrorAction Ignore }

    It 'works with a key given by <Source>' -ForEach @(
        @{ Source = '-ApiKey (ConvertTo-SecureString)' }
        @{ Source = 'CALSTUDIO_API_KEY' }
        @{ Source = 'Get-Secret (a SecureString from a vault)' }
    ) {
        switch -Wildcard ($Source) {
            '-ApiKey*' { Connect-CalStudio -ApiKey (ConvertTo-SecureString $k -AsPlainText -Force) -BaseUri $emu.Uri -AppName src -MaxRetries 0 }
            'CALSTUDIO*' { $env:CALSTUDIO_API_KEY = $k; Connect-CalStudio -BaseUri $emu.Uri -AppName src -MaxRetries 0 }
            'Get-Secret*' {
                (Get-Secret -Name CalStudio) | Should -BeOfType [securestring]
                Connect-CalStudio -ApiKey (Get-Secret -Name CalStudio) -BaseUri $emu.Uri -AppName src -MaxRetries 0
            }
        }
        $r = Invoke-CalStudioPrompt -Prompt "key from $Source"
        $r.Success | Should -BeTrue
        $r.Message | Should -Be "src answers: key from $Source"
        ((Get-CalStudioEmulatorRequests $emu -Last 1)[0].body | ConvertFrom-Json).apiKey | Should -BeExactly $k
        (Get-CalStudioConnection).KeyHint | Should -Be ('...' + $k.Substring($k.Length - 4))
    }
}

Describe 'TLS' {
    BeforeAll {
        $script:pki = New-TestPki -Dir (Join-Path $TestDrive 'pki')
        $script:k = New-SecretKey 'TLS'
        $script:emu = Start-CalStudioEmulator -Key $k -ArgumentList '--https', '--cert', $pki.Pfx, '--cert-password', $pki.Password
        $script:httpsUri = "https://localhost:$($emu.Uri.Port)"
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'talks to a server whose certificate chains to a CA the process trusts (SSL_CERT_FILE)' {
        $child = Invoke-Child -Environment @{
            SSL_CERT_FILE = $pki.CaPem; CS_TEST_MODULE = $ModulePath; CS_TEST_URI = $httpsUri; CS_TEST_KEY = $k
            CALSTUDIO_STATE_DIR = (Join-Path $TestDrive 'tls-state')
        } -Script @'
Import-Module $env:CS_TEST_MODULE
Connect-CalStudio -ApiKey (ConvertTo-SecureString $env:CS_TEST_KEY -AsPlainText -Force) -BaseUri $env:CS_TEST_URI -AppName tls -MaxRetries 0
$r = Invoke-CalStudioPrompt -Prompt 'over trusted TLS' -ErrorVariable errs -ErrorAction SilentlyContinue
"SUCCESS=$($r.Success)"
"MESSAGE=$($r.Message)"
foreach ($e in $errs) { "ERROR=$($e.FullyQualifiedErrorId): $($e.Exception.Message)" }
'@
        $child.Stdout | Should -Match 'SUCCESS=True' -Because "$($child.Stdout) $($child.Stderr)"
        $child.Stdout | Should -Match 'MESSAGE=tls answers: over trusted TLS'
        (Get-EmuRequests $emu -Last 1)[0].body | Should -Match 'over trusted TLS'
    }

    It 'refuses a certificate from an untrusted CA with ApiTlsFailure naming the chain problem, before sending the key' {
        Reset-Emu $emu
        Connect-CalStudio -ApiKey (ConvertTo-SecureString $k -AsPlainText -Force) -BaseUri $httpsUri -AppName tls -MaxRetries 3 -RetryDelaySec 0
        $out = Invoke-CalStudioPrompt -Prompt 'over untrusted TLS' -ErrorVariable errs -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be (& $Fq 'ApiTlsFailure')
        $errs[0].CategoryInfo.Category | Should -Be 'SecurityError'
        $errs[0].Exception.Message | Should -Match 'certificate'
        $errs[0].Exception.Message | Should -Match 'UntrustedRoot|PartialChain'
        $errs[0].Exception.Message | Should -Not -Match ([regex]::Escape($k))
        (Get-CalStudioResponse -Last 1).Attempts | Should -Be 1 -Because 'a TLS failure is permanent, not retried'
        Get-EmuRequestCount $emu | Should -Be 0 -Because 'the body (and key) must never reach an unverified server'
    }

    It 'refuses a trusted certificate issued for another host name' {
        $other = New-TestPki -Dir (Join-Path $TestDrive 'pki-other') -DnsNames 'other.example' -NoIpAddress
        $wrongName = Start-CalStudioEmulator -Key $k -ArgumentList '--https', '--cert', $other.Pfx, '--cert-password', $other.Password
        try {
            $child = Invoke-Child -Environment @{
                SSL_CERT_FILE = $other.CaPem; CS_TEST_MODULE = $ModulePath; CS_TEST_URI = "https://localhost:$($wrongName.Uri.Port)"; CS_TEST_KEY = $k
                CALSTUDIO_STATE_DIR = (Join-Path $TestDrive 'tls-state')
            } -Script @'
Import-Module $env:CS_TEST_MODULE
Connect-CalStudio -ApiKey (ConvertTo-SecureString $env:CS_TEST_KEY -AsPlainText -Force) -BaseUri $env:CS_TEST_URI -AppName tls -MaxRetries 0
$null = Invoke-CalStudioPrompt -Prompt 'wrong name' -ErrorVariable errs -ErrorAction SilentlyContinue
foreach ($e in $errs) { "ERROR=$($e.FullyQualifiedErrorId): $($e.Exception.Message)" }
'@
            $child.Stdout | Should -Match 'ERROR=ApiTlsFailure,'
            $child.Stdout | Should -Match 'RemoteCertificateNameMismatch|name'
            Get-EmuRequestCount $wrongName | Should -Be 0
        }
        finally { $wrongName | Stop-CalStudioEmulator }
    }

    It 'has no parameter on any command that turns certificate validation off' {
        foreach ($command in Get-Command -Module CalStudio) {
            foreach ($name in $command.Parameters.Keys) {
                $name | Should -Not -Match 'Skip|Certificate|Cert|Insecure|Validat|Trust|Unsafe|AllowUnencrypted' -Because "$($command.Name) -$name"
            }
        }
        (Get-Command Connect-CalStudio).Parameters.Keys | Should -Not -Contain 'SkipCertificateCheck'
    }
}

Describe 'Redirects' {
    BeforeAll {
        $script:k = New-SecretKey 'REDIRECT'
        $script:a = Start-CalStudioEmulator -Key $k
        $script:b = Start-CalStudioEmulator -Key $k
    }
    AfterAll { $script:a, $script:b | Stop-CalStudioEmulator }

    It 'refuses a 307 to another server with ApiRedirectRefused naming the target, and nothing reaches it' {
        Connect-CalStudio -ApiKey (ConvertTo-SecureString $k -AsPlainText -Force) -BaseUri $a.Uri -AppName redir -MaxRetries 3 -RetryDelaySec 0
        $target = "$($b.Uri.AbsoluteUri)getbackResponse"
        $out = Invoke-CalStudioPrompt -Prompt "emu:redirect:$target please follow" -ErrorVariable errs -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be (& $Fq 'ApiRedirectRefused')
        $errs[0].Exception.Message | Should -Match ([regex]::Escape($target))
        $errs[0].Exception.Message | Should -Match '307'
        (Get-EmuRequests $a).Count | Should -Be 1
        (Get-EmuRequests $b).Count | Should -Be 0 -Because 'not even a GET may reach the redirect target'
        Get-EmuRequestCount $b | Should -Be 0
        (Get-CalStudioResponse -Last 1).Attempts | Should -Be 1
    }
}

Describe 'User-Agent' {
    BeforeAll {
        $script:k = New-SecretKey 'UA'
        $script:emu = Start-CalStudioEmulator -Key $k
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'names the module and the version of out/CalStudio/CalStudio.psd1' {
        $ModuleVersion | Should -Match '^\d+\.\d+\.\d+'
        Connect-CalStudio -ApiKey (ConvertTo-SecureString $k -AsPlainText -Force) -BaseUri $emu.Uri -AppName ua -MaxRetries 0
        $r = Invoke-CalStudioPrompt -Prompt 'emu:echo user agent'
        $r.Message | Should -BeExactly "CalStudio.PowerShell/$ModuleVersion"
        (Get-CalStudioEmulatorRequests $emu -Last 1)[0].userAgent | Should -BeExactly "CalStudio.PowerShell/$ModuleVersion"
    }
}

Describe 'Input checked before sending' {
    BeforeAll {
        $script:k = New-SecretKey 'INPUT'
        $script:emu = Start-CalStudioEmulator -Key $k
        Connect-CalStudio -ApiKey (ConvertTo-SecureString $k -AsPlainText -Force) -BaseUri $emu.Uri -AppName input -MaxRetries 0
    }
    AfterAll { $script:emu | Stop-CalStudioEmulator }

    It 'refuses FileUrl <Why> as InvalidFileUrl without sending it' -ForEach @(
        @{ Why = 'a UNC path'; Url = '\\server\share\f.pdf' }
        @{ Why = 'a UNC path with forward slashes'; Url = '//server/share/f.pdf' }
        @{ Why = 'a relative path'; Url = 'docs/report.pdf' }
        @{ Why = 'a dot-relative path'; Url = '.\report.pdf' }
        @{ Why = 'a scheme-less host'; Url = 'files.example/a.pdf' }
        @{ Why = 'an ftp URL'; Url = 'ftp://files.example/a.pdf' }
    ) {
        $before = (Get-CalStudioEmulatorStats $emu -NoPrompts).requests
        $row = [pscustomobject]@{ Prompt = 'p'; FileUrl = $Url }
        $out = $row, [pscustomobject]@{ Prompt = 'fine' } | Invoke-CalStudioPrompt -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be (& $Fq 'InvalidFileUrl')
        @($out).Count | Should -Be 1
        (Get-CalStudioEmulatorStats $emu -NoPrompts).requests | Should -Be ($before + 1)
        (Get-CalStudioEmulatorRequests $emu -Last 1)[0].body | Should -Not -Match ([regex]::Escape('share'))
    }

    It 'sends right-to-left text and bidi controls intact' {
        $p = "مرحبا بالعالم — שלום עולם ‮gnp.exe‬ ‏x‎ (1 + 2)"
        $r = Invoke-CalStudioPrompt -Prompt $p
        ((Get-CalStudioEmulatorRequests $emu -Last 1)[0].body | ConvertFrom-Json).prompt | Should -BeExactly $p
        $r.Message | Should -BeExactly "input answers: $p"
    }

    It 'sends a 1 MB prompt intact' {
        $sb = [System.Text.StringBuilder]::new()
        $i = 0
        while ($sb.Length -lt 1MB) { $null = $sb.Append("line $i ü 日本 `"q`" \ `n"); $i++ }
        $p = $sb.ToString(0, 1MB)
        $r = Invoke-CalStudioPrompt -Prompt $p
        $r.Success | Should -BeTrue
        $r.Message.Length | Should -Be ('input answers: '.Length + $p.Length)
        $r.Message | Should -BeExactly "input answers: $p"
        $req = (Get-CalStudioEmulatorRequests $emu -Last 1)[0]
        $req.bodyBytes | Should -BeGreaterThan ([System.Text.Encoding]::UTF8.GetByteCount($p))
    }
}
