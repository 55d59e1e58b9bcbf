using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using CalStudio.Client;
using Xunit;

namespace CalStudio.Tests
{
    /// <summary>
    /// The TLS floor for Windows PowerShell 5.1 (.NET Framework), decided by a pure function that takes the runtime as
    /// parameters, so the .NET Framework cases run here on .NET. And the connection limit, set without compiling
    /// against HttpClientHandler.MaxConnectionsPerServer (absent before .NET Framework 4.7.1).
    /// </summary>
    public class TlsFloorTests
    {
        // By value: .NET 7+ marks Ssl3, Tls and Tls11 obsolete, and they are exactly what old .NET Framework defaults hold.
        private const SecurityProtocolType Ssl3 = (SecurityProtocolType)48;
        private const SecurityProtocolType Tls10 = (SecurityProtocolType)192;
        private const SecurityProtocolType Tls11 = (SecurityProtocolType)768;
        private const SecurityProtocolType Tls12 = SecurityProtocolType.Tls12;
        private const SecurityProtocolType Tls13 = (SecurityProtocolType)12288;

        public static readonly TheoryData<SecurityProtocolType> FrameworkDefaults = new TheoryData<SecurityProtocolType>
        {
            Ssl3 | Tls10,                 // .NET Framework 4.5.x / 4.6 apps built for older targets
            Tls10,
            Tls10 | Tls11,
            Tls10 | Tls11 | Tls12,
            Tls12,
            Ssl3 | Tls10 | Tls11 | Tls12 | Tls13,
        };

        [Fact]
        public void On_NET_Framework_TLS_1_2_is_added_to_Ssl3_and_Tls()
        {
            Assert.Equal(Ssl3 | Tls10 | Tls12, TlsFloor.Decide(Ssl3 | Tls10, isNetFramework: true, runtimeKnowsTls13: false));
        }

        [Fact]
        public void On_NET_Framework_4_8_TLS_1_3_is_added_too()
        {
            Assert.Equal(Ssl3 | Tls10 | Tls12 | Tls13, TlsFloor.Decide(Ssl3 | Tls10, isNetFramework: true, runtimeKnowsTls13: true));
        }

        [Theory]
        [MemberData(nameof(FrameworkDefaults))]
        public void On_NET_Framework_no_protocol_is_removed_and_TLS_1_2_is_always_there(SecurityProtocolType current)
        {
            foreach (bool knowsTls13 in new[] { false, true })
            {
                var decided = TlsFloor.Decide(current, isNetFramework: true, runtimeKnowsTls13: knowsTls13);
                Assert.Equal(current, decided & current);
                Assert.Equal(Tls12, decided & Tls12);
                Assert.Equal(knowsTls13 ? Tls13 : current & Tls13, decided & Tls13);
                // Nothing but the floor is added.
                Assert.Equal((SecurityProtocolType)0, decided & ~current & ~(Tls12 | Tls13));
            }
        }

        [Fact]
        public void Without_TLS_1_3_in_the_runtime_s_enum_it_is_never_set()
        {
            // .NET Framework before 4.8 throws NotSupportedException for a SecurityProtocol value its enum does not define.
            Assert.Equal((SecurityProtocolType)0, TlsFloor.Decide(Tls10, isNetFramework: true, runtimeKnowsTls13: false) & Tls13);
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void SystemDefault_is_left_to_the_OS(bool knowsTls13)
        {
            Assert.Equal((SecurityProtocolType)0, TlsFloor.Decide((SecurityProtocolType)0, isNetFramework: true, runtimeKnowsTls13: knowsTls13));
        }

        [Theory]
        [MemberData(nameof(FrameworkDefaults))]
        public void On_NET_Core_nothing_changes(SecurityProtocolType current)
        {
            Assert.Equal(current, TlsFloor.Decide(current, isNetFramework: false, runtimeKnowsTls13: true));
            Assert.Equal(current, TlsFloor.Decide(current, isNetFramework: false, runtimeKnowsTls13: false));
        }

        [Fact]
        public void This_runtime_is_recognised_as_not_NET_Framework()
        {
            Assert.False(DotNetRuntime.IsNetFramework);
        }

        // ServicePointManager is obsolete on .NET (SYSLIB0014), which is the point: it must stay untouched here.
#pragma warning disable SYSLIB0014
        [Fact]
        public void Apply_and_a_new_client_leave_ServicePointManager_alone_on_NET_Core()
        {
            var before = ServicePointManager.SecurityProtocol;
            try
            {
                // A value the floor would raise on .NET Framework: here it must stay as it is.
                ServicePointManager.SecurityProtocol = Tls10;
                TlsFloor.Apply();
                using (new CalStudioClient(new ClientOptions { BaseUri = new Uri("http://127.0.0.1:9") }))
                {
                    Assert.Equal(Tls10, ServicePointManager.SecurityProtocol);
                }
            }
            finally
            {
                ServicePointManager.SecurityProtocol = before;
            }
        }
#pragma warning restore SYSLIB0014

        [Fact]
        public void The_connection_limit_reaches_the_handler_where_MaxConnectionsPerServer_exists()
        {
            Assert.NotNull(ConnectionLimit.MaxConnectionsPerServer);
            using (var handler = new HttpClientHandler())
            {
                Assert.NotEqual(37, handler.MaxConnectionsPerServer);
                ConnectionLimit.Apply(handler, new Uri("https://calstudio.com/getbackResponse"), proxy: null, limit: 37);
                Assert.Equal(37, handler.MaxConnectionsPerServer);
            }
        }
    }
}
