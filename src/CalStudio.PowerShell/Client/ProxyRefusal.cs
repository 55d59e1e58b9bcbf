using System;
using System.Net;
using System.Net.Http;
using System.Reflection;

namespace CalStudio.Client
{
    /// <summary>
    /// A proxy's 407 is the proxy's, not the API's: it becomes ProxyAuthenticationRequired, which stops the batch as a
    /// rejected key does (every row would be refused the same way) and is never retried. It comes two ways: as a 407
    /// answer (an http target, or .NET Framework's HttpWebRequest for any target), or, for an https target on .NET 5+,
    /// as the HttpRequestException of the refused CONNECT ("The proxy tunnel request to proxy '…' failed with status
    /// code '407'."), whose StatusCode says 407.
    /// </summary>
    internal sealed class ProxyRefusal
    {
        /// <summary>HttpRequestException.StatusCode exists from .NET 5 only, so it is looked up rather than compiled against.</summary>
        private static readonly PropertyInfo RequestExceptionStatus =
            typeof(HttpRequestException).GetProperty("StatusCode", BindingFlags.Public | BindingFlags.Instance);

        private readonly IWebProxy _proxy;
        private readonly bool _useDefaultProxy;
        private readonly Uri _endpoint;

        /// <param name="proxy">-Proxy, or null for the default (environment or system) proxy, used when <paramref name="useDefaultProxy"/>.</param>
        public ProxyRefusal(IWebProxy proxy, bool useDefaultProxy, Uri endpoint)
        {
            _proxy = proxy;
            _useDefaultProxy = useDefaultProxy;
            _endpoint = endpoint;
        }

        public static bool IsRefusal(HttpResponseMessage response) => (int)response.StatusCode == 407;

        /// <summary>True when the transport failed because a proxy answered 407 (a refused CONNECT).</summary>
        public static bool IsRefusal(Exception failure)
        {
            for (Exception e = failure; e != null; e = e.InnerException)
            {
                if (e is HttpRequestException && RequestExceptionStatus?.GetValue(e) is HttpStatusCode status && (int)status == 407) return true;
                if (e is WebException web && web.Response is HttpWebResponse answer && (int)answer.StatusCode == 407) return true;
            }
            return false;
        }

        /// <summary>The outcome, naming the proxy without its user info. The transport's exception is not kept: its text
        /// may quote a proxy address taken from the environment, user info included.</summary>
        public ApiOutcome Outcome() =>
            ApiOutcome.Failure(ErrorIds.ProxyAuthenticationRequired, 407,
                "The proxy " + ProxyName() + " refused the request with HTTP 407 (Proxy Authentication Required); the request did not reach the API. " +
                "Give the proxy's credential with Connect-CalStudio -ProxyCredential (or as user info in the -Proxy URL), or check the one given.");

        private string ProxyName()
        {
            try
            {
                IWebProxy proxy = _proxy ?? (_useDefaultProxy ? WebRequest.DefaultWebProxy : null);
                Uri address = proxy?.GetProxy(_endpoint);
                if (address != null && address != _endpoint) return ProxyPolicy.WithoutUserInfo(address).ToString();
            }
            catch (Exception ex) when (ex is PlatformNotSupportedException || ex is InvalidOperationException || ex is NotSupportedException)
            {
                // The default proxy cannot be asked on this platform: say where it comes from instead.
            }
            return "in the way (from the system or environment proxy settings: HTTPS_PROXY, HTTP_PROXY, ALL_PROXY)";
        }
    }
}
