using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using CalStudio.Client;
using CalStudio.Commands;
using Xunit;

namespace CalStudio.Tests
{
    /// <summary>
    /// Certificate validation is always on: against the emulator serving a certificate from a throwaway CA this
    /// process does not trust, an attempt ends as ApiTlsFailure naming the chain problem, and the body (with the key)
    /// never reaches the server. The trusted case needs the CA in the process's trust store, so it runs in a child
    /// pwsh with SSL_CERT_FILE (tests/Pester/Security.Tests.ps1, Describe 'TLS').
    /// </summary>
    public sealed class TlsTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("calstudio-tls-").FullName;

        public void Dispose()
        {
            try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        }

        [Fact]
        public async Task An_untrusted_certificate_fails_as_ApiTlsFailure_naming_the_chain_problem_and_sends_nothing()
        {
            var (pfx, password) = CreateThrowawayPki(_dir);
            using var emulator = Emulator.Start("cs_tls_key_1234", "--https", "--cert", pfx, "--cert-password", password);
            using var client = new CalStudioClient(new ClientOptions { BaseUri = new Uri("https://localhost:" + emulator.Port) });

            var outcome = await client.SendAsync(new PromptRequest("hello over TLS", "app", null),
                RequestAndInputTests.Key("cs_tls_key_1234"), TimeSpan.FromSeconds(20), CancellationToken.None);

            Assert.False(outcome.IsSuccess);
            Assert.Equal(ErrorIds.TlsFailure, outcome.ErrorId);
            Assert.Equal(OutcomeKind.Permanent, outcome.Kind);
            Assert.Contains("certificate", outcome.ErrorMessage, StringComparison.OrdinalIgnoreCase);
            Assert.Matches(new Regex("UntrustedRoot|PartialChain"), outcome.ErrorMessage);
            Assert.DoesNotContain("cs_tls_key_1234", outcome.ErrorMessage);
            Assert.Equal(0, emulator.RequestCount());
        }

        [Fact]
        public void No_option_or_parameter_can_turn_certificate_validation_off()
        {
            static bool Suspicious(string name) =>
                Regex.IsMatch(name, "Skip|Certificate|Cert|Insecure|Validat|Trust|Callback|Unsafe", RegexOptions.IgnoreCase);

            Assert.DoesNotContain(typeof(ClientOptions).GetProperties(), p => Suspicious(p.Name));
            Assert.DoesNotContain(typeof(ConnectCalStudioCommand).GetProperties(), p => Suspicious(p.Name));
            Assert.DoesNotContain(typeof(InvokeCalStudioPromptCommand).GetProperties(), p => Suspicious(p.Name));
        }

        /// <summary>A CA valid for a day and a server certificate for localhost and 127.0.0.1 signed by it, as a pfx.</summary>
        internal static (string Pfx, string Password) CreateThrowawayPki(string dir)
        {
            var now = DateTimeOffset.UtcNow;
            using var caKey = RSA.Create(2048);
            var caRequest = new CertificateRequest("CN=CalStudio xunit throwaway CA " + Guid.NewGuid().ToString("N")[..8],
                caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
            using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

            using var leafKey = RSA.Create(2048);
            var leafRequest = new CertificateRequest("CN=localhost", leafKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("localhost");
            san.AddIpAddress(IPAddress.Loopback);
            leafRequest.CertificateExtensions.Add(san.Build());
            leafRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
            leafRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
            leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
            leafRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
            byte[] serial = RandomNumberGenerator.GetBytes(8);
            using var leaf = leafRequest.Create(ca, now.AddMinutes(-5), now.AddHours(12), serial);
            using var leafWithKey = leaf.CopyWithPrivateKey(leafKey);

            string password = Guid.NewGuid().ToString("N");
            string pfx = Path.Combine(dir, "server.pfx");
            File.WriteAllBytes(pfx, leafWithKey.Export(X509ContentType.Pkcs12, password));
            File.WriteAllText(Path.Combine(dir, "ca.pem"), ca.ExportCertificatePem() + "\n");
            return (pfx, password);
        }

        /// <summary>The built emulator (out/emulator) on a free loopback port, stopped by closing its stdin.</summary>
        private sealed class Emulator : IDisposable
        {
            private readonly Process _process;
            public int Port { get; }
            private Uri _uri;

            private Emulator(Process process, Uri uri)
            {
                _process = process;
                _uri = uri;
                Port = uri.Port;
            }

            public static Emulator Start(string key, params string[] args)
            {
                string dir = AppContext.BaseDirectory;
                while (dir != null && !File.Exists(Path.Combine(dir, "CalStudio.PowerShell.sln"))) dir = Path.GetDirectoryName(dir);
                Assert.True(dir != null, "repository root not found");
                string dll = Path.Combine(dir, "out", "emulator", "CalStudio.Emulator.dll");
                Assert.True(File.Exists(dll), "The emulator is not built (" + dll + "); run ./build.ps1 first.");

                var psi = new ProcessStartInfo("dotnet")
                {
                    RedirectStandardInput = true,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                foreach (string a in new[] { dll, "--port", "0", "--key", key, "--exit-on-stdin-eof" }.Concat(args)) psi.ArgumentList.Add(a);
                var process = Process.Start(psi);
                var line = process.StandardOutput.ReadLineAsync();
                if (!line.Wait(30000) || line.Result == null)
                {
                    process.Kill(true);
                    throw new InvalidOperationException("The emulator did not start: " + process.StandardError.ReadToEnd());
                }
                var match = Regex.Match(line.Result, @"(https?://\S+)");
                Assert.True(match.Success, line.Result);
                return new Emulator(process, new Uri(match.Value));
            }

            /// <summary>Requests that reached /getbackResponse, read from the emulator's stats (the test's own probe skips the check).</summary>
            public int RequestCount()
            {
                using var handler = new System.Net.Http.HttpClientHandler
                {
                    ServerCertificateCustomValidationCallback = (_, _, _, _) => true, // test probe only, never the module
                    UseProxy = false,
                };
                using var http = new System.Net.Http.HttpClient(handler);
                string json = http.GetStringAsync(new Uri(_uri, "/_emulator/stats?prompts=false")).GetAwaiter().GetResult();
                return int.Parse(Regex.Match(json, "\"requests\"\\s*:\\s*(\\d+)").Groups[1].Value);
            }

            public void Dispose()
            {
                try { _process.StandardInput.Close(); } catch (IOException) { }
                if (!_process.WaitForExit(5000)) _process.Kill(true);
                _process.Dispose();
            }
        }
    }
}
