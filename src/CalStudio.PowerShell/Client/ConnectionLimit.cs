using System;
using System.Net;
using System.Net.Http;
using System.Reflection;

namespace CalStudio.Client
{
    /// <summary>
    /// How many connections one client may open to the API host. HttpClientHandler.MaxConnectionsPerServer exists only
    /// from .NET Framework 4.7.1 (and in .NET Core), so it is looked up rather than compiled against: the module then
    /// loads on .NET Framework 4.6.2, where the limit lives on the host's ServicePoint (default 2 outside ASP.NET).
    /// </summary>
    internal static class ConnectionLimit
    {
        internal static readonly PropertyInfo MaxConnectionsPerServer =
            typeof(HttpClientHandler).GetProperty("MaxConnectionsPerServer", BindingFlags.Public | BindingFlags.Instance);

        public static void Apply(HttpClientHandler handler, Uri endpoint, IWebProxy proxy, int limit)
        {
            if (MaxConnectionsPerServer != null && MaxConnectionsPerServer.CanWrite)
                MaxConnectionsPerServer.SetValue(handler, limit);
            if (DotNetRuntime.IsNetFramework)
            {
                // .NET Framework's HttpClientHandler sends through HttpWebRequest, which queues past the ServicePoint's limit.
                var servicePoint = proxy != null ? ServicePointManager.FindServicePoint(endpoint, proxy) : ServicePointManager.FindServicePoint(endpoint);
                if (servicePoint.ConnectionLimit < limit) servicePoint.ConnectionLimit = limit;
            }
        }
    }
}
