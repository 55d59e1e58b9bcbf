using System;
using System.Linq;
using System.Net;
using System.Security;

namespace CalStudio.Client
{
    /// <summary>
    /// What -Proxy may be. A proxy URL's user info (http://alice:s3cr3t@host:port) logs in to the proxy exactly as
    /// -ProxyCredential does, and is then dropped: the session keeps only the address without it, so nothing that shows
    /// the proxy can show its password. Plain http stays on this machine: a loopback http target takes no proxy but one
    /// on loopback too, since a proxy elsewhere would read the key in clear text.
    /// </summary>
    public static class ProxyPolicy
    {
        /// <summary>The proxy schemes .NET's HttpClient knows (socks and https proxies only on PowerShell 7).</summary>
        private static readonly string[] Schemes = { "http", "https", "socks4", "socks4a", "socks5" };

        /// <summary>Returns null when <paramref name="proxy"/> may carry requests to <paramref name="baseUri"/>, otherwise (errorId, message).
        /// The message never quotes the proxy's user info.</summary>
        public static Tuple<string, string> Check(Uri baseUri, Uri proxy, bool credentialGiven)
        {
            if (proxy == null) return null;
            // An address that is not a URL is not echoed: "alice:s3cr3t@host" parses as a URI of scheme "alice".
            if (!proxy.IsAbsoluteUri || string.IsNullOrEmpty(proxy.Host) || !Schemes.Contains(proxy.Scheme, StringComparer.OrdinalIgnoreCase))
                return Tuple.Create(ErrorIds.InvalidProxy,
                    "-Proxy must be an absolute URL with a host, such as http://proxy.contoso.com:8080 (schemes: " + string.Join(", ", Schemes) + ").");
            if (proxy.UserInfo.Length > 0 && credentialGiven)
                return Tuple.Create(ErrorIds.InvalidProxy,
                    "-Proxy " + WithoutUserInfo(proxy) + " carries a user name and password, and -ProxyCredential gives another: give the proxy's credential one way only.");
            if (baseUri.Scheme == Uri.UriSchemeHttp && !BaseUriPolicy.IsLoopback(proxy))
                return Tuple.Create(ErrorIds.InsecureProxy,
                    "Plain http to " + baseUri + " through the proxy " + WithoutUserInfo(proxy) + " is refused: the proxy is not on this machine, " +
                    "and the API key would cross the network unencrypted to it. Use an https -BaseUri, a proxy on loopback (localhost, 127.0.0.1, ::1), or no -Proxy.");
            return null;
        }

        /// <summary>The address without user name and password: the only form the session keeps or shows.</summary>
        public static Uri WithoutUserInfo(Uri uri)
        {
            if (uri == null || !uri.IsAbsoluteUri || uri.UserInfo.Length == 0) return uri;
            return new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty }.Uri;
        }

        /// <summary>The login in the URL's user info, percent-decoded (p%40ss is p@ss; DOMAIN\user splits as a PSCredential's does);
        /// null when it has none.</summary>
        public static NetworkCredential CredentialIn(Uri proxy)
        {
            if (proxy == null || !proxy.IsAbsoluteUri || proxy.UserInfo.Length == 0) return null;
            string info = proxy.UserInfo;
            int colon = info.IndexOf(':');
            string user = Uri.UnescapeDataString(colon < 0 ? info : info.Substring(0, colon));
            var password = new SecureString();
            if (colon >= 0)
                foreach (char c in Uri.UnescapeDataString(info.Substring(colon + 1))) password.AppendChar(c);
            password.MakeReadOnly();
            int slash = user.IndexOf('\\');
            return slash < 0
                ? new NetworkCredential(user, password)
                : new NetworkCredential(user.Substring(slash + 1), password, user.Substring(0, slash));
        }

        /// <summary>The proxy of a checked -Proxy: its address without user info, logging in with <paramref name="credential"/>
        /// or else with the URL's own user info.</summary>
        public static WebProxy Create(Uri proxy, NetworkCredential credential) =>
            new WebProxy(WithoutUserInfo(proxy)) { Credentials = credential ?? CredentialIn(proxy) };
    }
}
