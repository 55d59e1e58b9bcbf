using System;
using System.Net;
using CalStudio.Client;
using Xunit;

namespace CalStudio.Tests
{
    /// <summary>What -Proxy may be, and what of it is kept: the rules of ProxyPolicy (the real proxy runs in Proxy.Tests.ps1).</summary>
    public class ProxyPolicyTests
    {
        [Theory]
        [InlineData("http://alice:s3cr3t@proxy.contoso.com:8080", "alice", "s3cr3t", "")]
        [InlineData("http://alice:p%40ss%3Aw0rd%2F1@127.0.0.1:3128", "alice", "p@ss:w0rd/1", "")]
        [InlineData("http://CONTOSO%5Calice:pw@proxy:8080", "alice", "pw", "CONTOSO")]
        [InlineData("http://alice@proxy:8080", "alice", "", "")]
        [InlineData("http://%C3%A9lise:%C3%BC%20x@proxy:8080", "élise", "ü x", "")]
        public void User_info_logs_in_percent_decoded(string url, string user, string password, string domain)
        {
            NetworkCredential credential = ProxyPolicy.CredentialIn(new Uri(url));
            Assert.Equal(user, credential.UserName);
            Assert.Equal(password, credential.Password);
            Assert.Equal(domain, credential.Domain);
        }

        [Theory]
        [InlineData("http://alice:s3cr3t@proxy.contoso.com:8080/", "http://proxy.contoso.com:8080/")]
        [InlineData("http://alice:p%40ss@127.0.0.1:3128", "http://127.0.0.1:3128/")]
        [InlineData("http://proxy:8080", "http://proxy:8080/")]
        public void Only_the_address_without_user_info_is_kept(string url, string kept)
        {
            Assert.Equal(kept, ProxyPolicy.WithoutUserInfo(new Uri(url)).AbsoluteUri);
            WebProxy proxy = ProxyPolicy.Create(new Uri(url), null);
            Assert.Equal(kept, proxy.Address.AbsoluteUri);
            Assert.DoesNotContain("s3cr3t", proxy.Address.ToString());
        }

        [Fact]
        public void An_explicit_credential_is_the_one_used()
        {
            var given = new NetworkCredential("bob", "given");
            Assert.Same(given, ProxyPolicy.Create(new Uri("http://proxy:8080"), given).Credentials);
            Assert.Null(ProxyPolicy.Create(new Uri("http://proxy:8080"), null).Credentials);
        }

        [Theory]
        [InlineData("http://127.0.0.1:5000", "http://127.0.0.1:3128", false, null)]
        [InlineData("http://localhost:5000", "http://[::1]:3128", false, null)]
        [InlineData("http://localhost:5000", null, false, null)]
        [InlineData("https://calstudio.com", "http://192.0.2.10:8080", false, null)]
        [InlineData("https://calstudio.com", "socks5://127.0.0.1:1080", false, null)]
        [InlineData("http://127.0.0.1:5000", "http://192.0.2.10:8080", false, ErrorIds.InsecureProxy)]
        [InlineData("http://localhost:5000", "http://localhost.evil.example:8080", false, ErrorIds.InsecureProxy)]
        [InlineData("https://calstudio.com", "http://alice:pw@proxy:8080", true, ErrorIds.InvalidProxy)]
        [InlineData("https://calstudio.com", "http://alice:pw@proxy:8080", false, null)]
        [InlineData("https://calstudio.com", "ftp://proxy:21", false, ErrorIds.InvalidProxy)]
        [InlineData("https://calstudio.com", "alice:s3cr3t@proxy:8080", false, ErrorIds.InvalidProxy)]
        public void Checks_the_proxy_against_the_target(string baseUri, string proxy, bool credentialGiven, string errorId)
        {
            var problem = ProxyPolicy.Check(new Uri(baseUri), proxy == null ? null : new Uri(proxy, UriKind.RelativeOrAbsolute), credentialGiven);
            Assert.Equal(errorId, problem?.Item1);
            if (problem != null)
            {
                Assert.DoesNotContain("s3cr3t", problem.Item2);
                Assert.DoesNotContain(":pw@", problem.Item2);
            }
        }

        [Fact]
        public void A_proxy_refusal_is_permanent_and_stops_the_batch_as_a_rejected_key_does()
        {
            var info = ErrorIds.Info(ErrorIds.ProxyAuthenticationRequired);
            Assert.Equal(OutcomeKind.KeyRejected, info.Kind);
            Assert.False(info.Retried);
            Assert.Equal(System.Management.Automation.ErrorCategory.AuthenticationError, info.Category);
        }
    }
}
