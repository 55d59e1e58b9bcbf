using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using CalStudio.Client;
using CalStudio.Quota;

namespace CalStudio.Engine
{
    /// <summary>How hard one prompt is tried.</summary>
    public sealed class RetrySettings
    {
        public int MaxRetries { get; set; } = 4;
        public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);
        public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(60);
        /// <summary>A Retry-After longer than this means the quota is spent for now: stop instead of sleeping for hours.</summary>
        public TimeSpan MaxRetryWait { get; set; } = TimeSpan.FromSeconds(300);
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(120);

        public RetrySettings With(int? maxRetries, int? timeoutSec)
        {
            var copy = (RetrySettings)MemberwiseClone();
            if (maxRetries.HasValue) copy.MaxRetries = maxRetries.Value;
            if (timeoutSec.HasValue) copy.Timeout = TimeSpan.FromSeconds(timeoutSec.Value);
            return copy;
        }
    }

    /// <summary>The last outcome of a prompt after its retries.</summary>
    public sealed class SendResult
    {
        public ApiOutcome Outcome { get; set; }
        public int Attempts { get; set; }
        public TimeSpan Duration { get; set; }
    }

    /// <summary>
    /// Sends one prompt with retries of transient failures: exponential backoff with jitter, Retry-After honoured
    /// (seconds or HTTP date). The in-flight gate is held only during an attempt, never during a backoff wait.
    /// </summary>
    internal sealed class RetryingSender
    {
        private static readonly ThreadLocal<Random> Jitter = new ThreadLocal<Random>(() => new Random(Guid.NewGuid().GetHashCode()));

        private readonly CalStudioClient _client;
        private readonly ApiKey _key;
        private readonly RetrySettings _settings;
        private readonly RequestPacer _pacer;
        private readonly IInFlightGate _inFlight;
        private readonly Func<ApiOutcome> _refuseNewAttempts;
        private readonly Action<ApiOutcome> _attemptEnded;

        /// <param name="refuseNewAttempts">Asked right before each attempt: a non-null outcome (a rejected key, a spent quota) ends the prompt unsent.</param>
        /// <param name="attemptEnded">Told of each attempt's outcome while its in-flight slot is still held, so a refusal it sets up
        /// is in place before the slot can go to another prompt.</param>
        public RetryingSender(CalStudioClient client, ApiKey key, RetrySettings settings, RequestPacer pacer, IInFlightGate inFlight,
                              Func<ApiOutcome> refuseNewAttempts = null, Action<ApiOutcome> attemptEnded = null)
        {
            _refuseNewAttempts = refuseNewAttempts ?? (() => null);
            _attemptEnded = attemptEnded ?? (_ => { });
            _client = client;
            _key = key;
            _settings = settings;
            _pacer = pacer;
            _inFlight = inFlight;
        }

        /// <summary>Throws OperationCanceledException only when <paramref name="cancel"/> fires.</summary>
        public async Task<SendResult> SendAsync(PromptRequest request, CancellationToken cancel, Action<string> note)
        {
            var clock = Stopwatch.StartNew();
            for (int attempt = 1; ; attempt++)
            {
                ApiOutcome outcome;
                // The pacer's turn is taken inside the in-flight gate: a turn reserved while queued behind the gate
                // would go stale, and stale turns released together are a burst.
                await _inFlight.EnterAsync(cancel).ConfigureAwait(false);
                var sentAt = Stopwatch.StartNew();
                outcome = null;
                try
                {
                    // Asked again after the pacer's wait: a stop or a spent quota may have come meanwhile.
                    outcome = _refuseNewAttempts() ?? await _pacer.WaitTurnAsync(cancel).ConfigureAwait(false) ?? _refuseNewAttempts();
                    if (outcome != null)
                        return new SendResult { Outcome = outcome, Attempts = attempt - 1, Duration = clock.Elapsed };
                    sentAt.Restart(); // the app's latency, not the pacer's wait: the in-flight gate sizes itself by it
                    outcome = await _client.SendAsync(request, _key, _settings.Timeout, cancel).ConfigureAwait(false);
                    _attemptEnded(outcome);
                }
                finally { _inFlight.Exit(new AttemptReport(outcome, sentAt.Elapsed)); }
                _pacer.Observe(outcome);

                if (outcome.Kind == OutcomeKind.Transient && outcome.RetryAfter > _settings.MaxRetryWait)
                    outcome = QuotaSpent(outcome);

                if (outcome.Kind != OutcomeKind.Transient || attempt > _settings.MaxRetries)
                    return new SendResult { Outcome = outcome, Attempts = attempt, Duration = clock.Elapsed };

                TimeSpan wait = DelayBefore(attempt + 1, outcome.RetryAfter);
                note?.Invoke("Retrying in " + wait.TotalSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) +
                             " s (attempt " + (attempt + 1) + " of " + (_settings.MaxRetries + 1) + ") after " + outcome.ErrorId +
                             (outcome.StatusCode > 0 ? " HTTP " + outcome.StatusCode : "") + ": " + Shorten(outcome.ErrorMessage));
                await Task.Delay(wait, cancel).ConfigureAwait(false);
            }
        }

        /// <summary>Backoff before attempt n (n ≥ 2): base·2^(n-2), half fixed and half random; Retry-After wins when longer.</summary>
        internal TimeSpan DelayBefore(int attempt, TimeSpan? retryAfter)
        {
            double ceiling = Math.Min(_settings.MaxDelay.TotalMilliseconds, _settings.BaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 2));
            double ms = ceiling / 2 + Jitter.Value.NextDouble() * ceiling / 2;
            if (retryAfter.HasValue)
                ms = Math.Max(ms, retryAfter.Value.TotalMilliseconds + Jitter.Value.NextDouble() * 250);
            return TimeSpan.FromMilliseconds(ms);
        }

        private ApiOutcome QuotaSpent(ApiOutcome outcome)
        {
            outcome.Kind = OutcomeKind.QuotaExhausted;
            outcome.ErrorId = ErrorIds.DailyQuotaExhausted;
            outcome.ErrorMessage = "The API asked to wait " + (int)outcome.RetryAfter.Value.TotalSeconds +
                                   " s, longer than -MaxRetryWaitSec (" + (int)_settings.MaxRetryWait.TotalSeconds + " s). " + outcome.ErrorMessage;
            return outcome;
        }

        private static string Shorten(string text) => text == null ? "" : ResponseParser.Shorten(text, 160);
    }
}
