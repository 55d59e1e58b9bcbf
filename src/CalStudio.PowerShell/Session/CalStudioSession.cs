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
        /// <summary>Answer-shape types this session registered (Update-TypeData): once per session, not once per batch.</summary>
        public AnswerTypeRegistry AnswerTypes { get; } = new AnswerTypeRegistry();
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
                ConnectedAt = ConnectedAt.ToLocalTime(),
                Proxy = Proxy is System.Net.WebProxy wp ? ProxyPolicy.WithoutUserInfo(wp.Address) : null, // never a proxy password
                RequestsPerMinute = quota.RequestsPerMinute,
                RequestsPerDay = quota.RequestsPerDay,
                RateLimit = quota.Limit,
                RateLimitRemaining = quota.Remaining,
                RateLimitReset = quota.Reset?.ToLocalTime(), // shown as local time with its offset
                RequestsToday = quota.RequestsToday,
                DailyQuotaSpentUntil = quota.DailyQuotaSpentUntil,
                Pacing = quota.Obeying,
                InFlightLevel = LastInFlight?.Level,
                InFlightReason = LastInFlight?.Reason,
            };
        }

        private readonly object _leaseGate = new object();
        private int _leases;
        private bool _retired;

        /// <summary>
        /// A running batch holds a lease for its whole life: Disconnect-CalStudio or another Connect-CalStudio later in the
        /// same pipeline retires the session, and its key and sockets are disposed only when the last batch ends.
        /// </summary>
        public IDisposable Lease()
        {
            lock (_leaseGate) _leases++;
            return new LeaseToken(this);
        }

        /// <summary>No longer the runspace's session: disposed now, or when the last lease ends.</summary>
        public void Dispose()
        {
            lock (_leaseGate)
            {
                _retired = true;
                if (_leases > 0) return;
            }
            Release();
        }

        private void EndLease()
        {
            lock (_leaseGate)
            {
                if (--_leases > 0 || !_retired) return;
            }
            Release();
        }

        private void Release()
        {
            Client.Dispose();
            Key.Dispose();
        }

        private sealed class LeaseToken : IDisposable
        {
            private CalStudioSession _session;
            public LeaseToken(CalStudioSession session) { _session = session; }
            public void Dispose() => System.Threading.Interlocked.Exchange(ref _session, null)?.EndLease();
        }
    }
}
