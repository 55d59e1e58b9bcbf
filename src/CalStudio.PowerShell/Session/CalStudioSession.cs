using System;
using CalStudio.Client;
using CalStudio.Engine;
using CalStudio.Quota;

namespace CalStudio.Session
{
    /// <summary>Everything Connect-CalStudio sets up: key, transport, defaults, pacing and history.</summary>
    internal sealed class CalStudioSession : IDisposable
    {
        public CalStudioSession(ApiKey key, ClientOptions clientOptions, string appName, RetrySettings retry, int? throttleLimit,
                                RequestPacer pacer, int historySize)
        {
            Key = key;
            BaseUri = clientOptions.BaseUri;
            Proxy = clientOptions.Proxy;
            Client = new CalStudioClient(clientOptions);
            AppName = appName;
            Retry = retry;
            ThrottleLimit = throttleLimit;
            Pacer = pacer;
            History = new ResponseHistory(historySize);
            ConnectedAt = DateTimeOffset.Now;
        }

        public ApiKey Key { get; }
        public Uri BaseUri { get; }
        public System.Net.IWebProxy Proxy { get; }
        public CalStudioClient Client { get; }
        public string AppName { get; }
        public RetrySettings Retry { get; }
        /// <summary>-ThrottleLimit of Connect-CalStudio; null: requests in flight follow the latency up to the default ceiling.</summary>
        public int? ThrottleLimit { get; }
        /// <summary>The in-flight gate of the last batch, for Get-CalStudioConnection.</summary>
        public AdaptiveInFlightGate LastInFlight { get; set; }
        public RequestPacer Pacer { get; }
        public ResponseHistory History { get; }
        public DateTimeOffset ConnectedAt { get; }

        public Connection ToConnection()
        {
            var quota = Pacer.Snapshot();
            return new Connection
            {
                BaseUri = BaseUri,
                AppName = AppName,
                KeyHint = Key.Hint,
                TimeoutSec = (int)Retry.Timeout.TotalSeconds,
                MaxRetries = Retry.MaxRetries,
                ThrottleLimit = ThrottleLimit,
                ConnectedAt = ConnectedAt,
                Proxy = Proxy is System.Net.WebProxy wp ? wp.Address : null,
                RequestsPerMinute = quota.RequestsPerMinute,
                RequestsPerDay = quota.RequestsPerDay,
                RateLimit = quota.Limit,
                RateLimitRemaining = quota.Remaining,
                RateLimitReset = quota.Reset,
                RequestsToday = quota.RequestsToday,
                InFlightLevel = LastInFlight?.Level,
                InFlightReason = LastInFlight?.Reason,
            };
        }

        public void Dispose()
        {
            Client.Dispose();
            Key.Dispose();
        }
    }
}
