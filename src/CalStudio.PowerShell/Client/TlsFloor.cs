using System;
using System.Net;

namespace CalStudio.Client
{
    /// <summary>
    /// On .NET Framework (Windows PowerShell 5.1) HttpClient offers only the protocols in the process-wide
    /// ServicePointManager.SecurityProtocol, which can be Ssl3|Tls: a TLS 1.2 server then refuses the handshake.
    /// The floor adds TLS 1.2 (and 1.3 where the runtime knows it) and removes nothing another module relies on.
    /// .NET (Core) does not use that setting for HttpClient, so there nothing is touched.
    /// </summary>
    internal static class TlsFloor
    {
        /// <summary>.NET Framework 4.7+: the OS chooses the protocols; forcing a list would override a better OS default.</summary>
        internal const SecurityProtocolType SystemDefault = 0;
        /// <summary>Known to SecurityProtocolType from .NET Framework 4.8; the netstandard2.0 enum has no name for it.</summary>
        internal const SecurityProtocolType Tls13 = (SecurityProtocolType)12288;

        /// <summary>The SecurityProtocol to set, given the current one and the runtime; returns <paramref name="current"/> when nothing is to change.</summary>
        public static SecurityProtocolType Decide(SecurityProtocolType current, bool isNetFramework, bool runtimeKnowsTls13)
        {
            if (!isNetFramework || current == SystemDefault) return current;
            var floor = current | SecurityProtocolType.Tls12;
            // Setting a value the runtime's enum does not define throws NotSupportedException on .NET Framework.
            if (runtimeKnowsTls13) floor |= Tls13;
            return floor;
        }

        /// <summary>Raises ServicePointManager.SecurityProtocol to the floor on .NET Framework; a no-op elsewhere.</summary>
        public static void Apply()
        {
            if (!DotNetRuntime.IsNetFramework) return;
            var current = ServicePointManager.SecurityProtocol;
            var wanted = Decide(current, isNetFramework: true, runtimeKnowsTls13: Enum.IsDefined(typeof(SecurityProtocolType), Tls13));
            if (wanted != current) ServicePointManager.SecurityProtocol = wanted;
        }
    }
}
