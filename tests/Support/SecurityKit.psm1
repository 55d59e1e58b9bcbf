# Helpers of the security suites (Security.Tests, Proxy.Tests): child pwsh processes and a throwaway PKI.
# Invoke-Child uses Start-PwshProcess of Emulator.psm1, which the suites import first.

# Runs a script in a child pwsh and returns its exit code, stdout and stderr (read together: no pipe deadlock).
function Invoke-Child([string] $Script, [hashtable] $Environment, [int] $TimeoutSec = 120) {
    $p = Start-PwshProcess -Script $Script -Environment $Environment
    $stdout = $p.StandardOutput.ReadToEndAsync()
    $stderr = $p.StandardError.ReadToEndAsync()
    if (-not $p.WaitForExit($TimeoutSec * 1000)) { $p.Kill($true); throw "The child pwsh did not finish within $TimeoutSec s." }
    $p.WaitForExit()
    [pscustomobject]@{ ExitCode = $p.ExitCode; Stdout = $stdout.Result; Stderr = $stderr.Result }
}

# A throwaway CA and a server certificate for localhost and 127.0.0.1 signed by it: a pfx for the emulator, a PEM of the CA.
function New-TestPki([string] $Dir, [string[]] $DnsNames = @('localhost'), [switch] $NoIpAddress) {
    $null = New-Item -ItemType Directory -Path $Dir -Force
    $now = [datetimeoffset]::UtcNow
    $pad = [System.Security.Cryptography.RSASignaturePadding]::Pkcs1
    $caKey = [System.Security.Cryptography.RSA]::Create(2048)
    $caReq = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new(
        "CN=CalStudio Throwaway Test CA $([guid]::NewGuid().ToString('N').Substring(0, 8))", $caKey, 'SHA256', $pad)
    $caReq.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new($true, $false, 0, $true))
    $caReq.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509KeyUsageExtension]::new('KeyCertSign, CrlSign', $true))
    $caReq.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509SubjectKeyIdentifierExtension]::new($caReq.PublicKey, $false))
    $ca = $caReq.CreateSelfSigned($now.AddMinutes(-5), $now.AddDays(1))

    $leafKey = [System.Security.Cryptography.RSA]::Create(2048)
    $leafReq = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new("CN=$($DnsNames[0])", $leafKey, 'SHA256', $pad)
    $san = [System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new()
    foreach ($name in $DnsNames) { $san.AddDnsName($name) }
    if (-not $NoIpAddress) { $san.AddIpAddress([ipaddress]::Loopback) }
    $leafReq.CertificateExtensions.Add($san.Build())
    $leafReq.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new($false, $false, 0, $false))
    $leafReq.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509KeyUsageExtension]::new('DigitalSignature, KeyEncipherment', $true))
    $eku = [System.Security.Cryptography.OidCollection]::new()
    $null = $eku.Add([System.Security.Cryptography.Oid]::new('1.3.6.1.5.5.7.3.1')) # server authentication
    $leafReq.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension]::new($eku, $false))
    $leafReq.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509AuthorityKeyIdentifierExtension]::CreateFromCertificate($ca, $true, $false))
    $serial = [byte[]]::new(8)
    [System.Security.Cryptography.RandomNumberGenerator]::Fill($serial)
    $leaf = $leafReq.Create($ca, $now.AddMinutes(-5), $now.AddHours(12), $serial)
    $leafWithKey = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::CopyWithPrivateKey($leaf, $leafKey)
    $password = [guid]::NewGuid().ToString('N')
    $pfx = Join-Path $Dir 'server.pfx'
    [System.IO.File]::WriteAllBytes($pfx, $leafWithKey.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pkcs12, $password))
    $pem = Join-Path $Dir 'ca.pem'
    [System.IO.File]::WriteAllText($pem, $ca.ExportCertificatePem() + "`n")
    [pscustomobject]@{ Pfx = $pfx; Password = $password; CaPem = $pem }
}

Export-ModuleMember -Function Invoke-Child, New-TestPki
