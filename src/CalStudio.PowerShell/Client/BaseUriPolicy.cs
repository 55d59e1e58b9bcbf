using System;
using System.Net;

namespace CalStudio.Client
{
    /// <summary>HTTPS everywhere; plain http only to this machine (the emulator), where nothing crosses a network.</summary>
    public static class BaseUriPolicy
    {
        public static readonly Uri Default = new Uri("https://calstudio.com");

        /// <summary>Returns null when the URI may be used, otherwise (errorId, message).</summary>
        public static Tuple<string, string> Check(Uri uri)
        {
            if (uri == null || !uri.IsAbsoluteUri)
                return Tuple.Create(ErrorIds.InvalidBaseUri, "-BaseUri must be an absolute URI such as https://calstudio.com.");
            if (uri.Scheme == Uri.UriSchemeHttps) return null;
            if (uri.Scheme != Uri.UriSchemeHttp)
                return Tuple.Create(ErrorIds.InvalidBaseUri, "-BaseUri must use https (got '" + uri.Scheme + "').");
            if (IsLoopback(uri)) return null;
            return Tuple.Create(ErrorIds.InsecureBaseUri,
                "Plain http is refused for '" + uri.Host + "': the API key would cross the network unencrypted. " +
                "Use https, or http only for a loopback host (localhost, 127.0.0.1, ::1) such as the local emulator.");
        }

        public static bool IsLoopback(Uri uri)
        {
            string host = uri.Host.Trim('[', ']');
            if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
            return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
        }
    }
}
