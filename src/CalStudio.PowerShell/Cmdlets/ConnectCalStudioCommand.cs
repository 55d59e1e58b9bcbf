using System;
using System.Management.Automation;
using System.Net;
using System.Security;
using CalStudio.Client;
using CalStudio.Engine;
using CalStudio.Quota;
using CalStudio.Session;

namespace CalStudio.Commands
{
    /// <summary>Connect-CalStudio: keeps the key (as a SecureString) and the defaults for this session.</summary>
    [Cmdlet(VerbsCommunications.Connect, "CalStudio")]
    [OutputType(typeof(Connection))]
    public sealed class ConnectCalStudioCommand : CalStudioCmdlet
    {
        public const string KeyVariable = "CALSTUDIO_API_KEY";

        [Parameter(Position = 0)]
        public SecureString ApiKey { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(AppNameCompleter))]
        public string AppName { get; set; }

        [Parameter]
        [ValidateNotNull]
        public Uri BaseUri { get; set; } = BaseUriPolicy.Default;

        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSec { get; set; } = 120;

        [Parameter]
        [ValidateRange(0, 20)]
        [Alias("MaximumRetryCount")] // Invoke-RestMethod's name
        public int MaxRetries { get; set; } = 4;

        /// <summary>The ceiling of requests in flight. Not given: they follow rate × latency up to 256 (4 while the rate is unknown).</summary>
        [Parameter]
        [ValidateRange(1, 256)]
        public int ThrottleLimit { get; set; }

        [Parameter]
        [ValidateRange(0.0, 600.0)]
        [Alias("RetryIntervalSec")] // Invoke-RestMethod's name
        public double RetryDelaySec { get; set; } = 1.0;

        [Parameter]
        [ValidateRange(1, 86400)]
        public int MaxRetryWaitSec { get; set; } = 300;

        [Parameter]
        public Plan Plan { get; set; }

        [Parameter]
        [ValidateRange(1, 100000)]
        public int RequestsPerMinute { get; set; }

        [Parameter]
        [ValidateRange(1, 10000000)]
        public int RequestsPerDay { get; set; }

        [Parameter]
        public Uri Proxy { get; set; }

        [Parameter]
        [Credential]
        public PSCredential ProxyCredential { get; set; }

        [Parameter]
        [ValidateRange(1, 1000000)]
        public int HistorySize { get; set; } = 1000;

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void EndProcessing()
        {
            Uri proxyAddress = HideProxyUserInfo();
            var uriProblem = BaseUriPolicy.Check(BaseUri);
            if (uriProblem != null)
                Terminate(uriProblem.Item1, uriProblem.Item2, BaseUri);
            var proxyProblem = ProxyPolicy.Check(BaseUri, Proxy, ProxyCredential != null);
            if (proxyProblem != null)
                Terminate(proxyProblem.Item1, proxyProblem.Item2, proxyAddress, recommendedAction: "Connect-CalStudio -BaseUri https://... -Proxy http://proxy:port -ProxyCredential (Get-Credential)");

            SecureString secret = FindKey();
            var key = new ApiKey(secret);
            int? perMinute = MyInvocation.BoundParameters.ContainsKey(nameof(RequestsPerMinute)) ? RequestsPerMinute
                : MyInvocation.BoundParameters.ContainsKey(nameof(Plan)) ? Plans.RequestsPerMinute(Plan) : (int?)null;
            int? perDay = MyInvocation.BoundParameters.ContainsKey(nameof(RequestsPerDay)) ? RequestsPerDay
                : MyInvocation.BoundParameters.ContainsKey(nameof(Plan)) ? Plans.RequestsPerDay(Plan) : (int?)null;

            var clientOptions = new ClientOptions { BaseUri = BaseUri };
            if (Proxy != null)
                clientOptions.Proxy = ProxyPolicy.Create(Proxy, ProxyCredential?.GetNetworkCredential());

            var retry = new RetrySettings
            {
                MaxRetries = MaxRetries,
                Timeout = TimeSpan.FromSeconds(TimeoutSec),
                BaseDelay = TimeSpan.FromSeconds(RetryDelaySec),
                MaxRetryWait = TimeSpan.FromSeconds(MaxRetryWaitSec),
            };
            var pacer = RequestPacer.Create(key, BaseUri, perMinute, perDay, retry.MaxRetryWait);
            pacer.CheckStateFile();
            int? throttle = MyInvocation.BoundParameters.ContainsKey(nameof(ThrottleLimit)) ? ThrottleLimit : (int?)null;
            var session = new CalStudioSession(key, clientOptions, AppName, retry, throttle, pacer, HistorySize);
            SessionStore.Set(session);
            WriteBudgetWarning(session);
            WriteVerbose("Connected to " + BaseUri + " with key " + key.Hint + (AppName != null ? ", app '" + AppName + "'" : "") +
                         (proxyAddress != null ? ", through the proxy " + proxyAddress : "") + ".");
            if (PassThru) WriteObject(session.ToConnection());
        }

        /// <summary>
        /// The -Proxy address without user info. The bound value is replaced too: every error record of this command
        /// carries MyInvocation, whose BoundParameters would otherwise show the proxy's password.
        /// </summary>
        private Uri HideProxyUserInfo()
        {
            if (Proxy == null) return null;
            Uri shown = ProxyPolicy.WithoutUserInfo(Proxy);
            if (!shown.IsAbsoluteUri || shown.Host.Length == 0) shown = null; // not a URL ("alice:pw@host"): never shown
            if (MyInvocation.BoundParameters.ContainsKey(nameof(Proxy)))
                MyInvocation.BoundParameters[nameof(Proxy)] = (object)shown ?? "(hidden)";
            return shown;
        }

        /// <summary>-ApiKey, then $env:CALSTUDIO_API_KEY, then (interactive hosts only) a masked prompt.</summary>
        private SecureString FindKey()
        {
            if (ApiKey != null && ApiKey.Length > 0) return ApiKey;

            string fromEnvironment = Environment.GetEnvironmentVariable(KeyVariable);
            if (!string.IsNullOrWhiteSpace(fromEnvironment))
            {
                var secure = new SecureString();
                foreach (char c in fromEnvironment.Trim()) secure.AppendChar(c);
                return secure;
            }

            if (HostIsInteractive())
            {
                try
                {
                    Host.UI.Write("CalStudio API key: ");
                    var typed = Host.UI.ReadLineAsSecureString();
                    if (typed != null && typed.Length > 0) return typed;
                }
                catch (Exception ex) when (ex is PSInvalidOperationException || ex is NotImplementedException || ex is InvalidOperationException)
                {
                    // A host that cannot prompt: fall through to the error below.
                }
            }

            Terminate(ErrorIds.NoApiKey,
                "No CalStudio API key. Give one with -ApiKey (a SecureString, e.g. from Get-Secret or Read-Host -AsSecureString) " +
                "or set the environment variable " + KeyVariable + " for unattended runs.", null,
                recommendedAction: "Connect-CalStudio -ApiKey (Get-Secret CalStudio) or $env:" + KeyVariable + " = '<key>' in the task's environment.");
            return null;
        }

        private bool HostIsInteractive()
        {
            if (Host?.UI == null || Host.Name == "Default Host" || ProcessIsNonInteractive()) return false;
            return !(Host.Name == "ConsoleHost" && Console.IsInputRedirected);
        }
    }
}
