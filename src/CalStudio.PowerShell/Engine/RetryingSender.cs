using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using CalStudio.Client;

namespace CalStudio.Engine
{
    /// <summary>How hard one prompt is tried. Immutable: <see cref="With"/> makes a changed copy.</summary>
    public sealed class RetrySettings
    {
        public int MaxRetries { get; init; } = 4;
        public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(1);
        public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(60);
        /// <summary>A Retry-After longer than this means the quota is spent for now: stop instead of sleeping for hours.</summary>
        public TimeSpan MaxRetryWait { get; init; } = TimeSpan.FromSeconds(300);
        public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);

        public RetrySettings With(int? maxRetries, int? timeoutSec) =>
            new RetrySettings
            {
                MaxRetries = maxRetries ?? MaxRetries,
                BaseDelay = BaseDelay,
                MaxDelay = MaxDelay,
                MaxRetryWait = MaxRetryWait,
                Timeout = timeoutSec.HasValue ? TimeSpan.FromSeconds(timeoutSec.Value) : Timeout,
            };
    }

    /// <summary>The last outcome of a prompt after its retries, or why it was never sent.</summary>
    internal sealed class SendResult
    {
        private SendResult(ApiOutcome outcome, int attempts, TimeSpan duration) { Outcome = outcome; Attempts = attempts; Duration = duration; }

        /// <summary>Null when the batch stopped before this prompt's first attempt (or between its retries).</summary>
        public ApiOutcome Outcome { get; }
        public int Attempts { get; }
        /// <summary>From the first attempt's send to the final answer: time queued for a slot or a pacing turn is not in it.</summary>
        public TimeSpan Duration { get; }
        public bool NotSent => Outcome == null;

        public static SendResult Ended(ApiOutcome outcome, int attempts, TimeSpan duration) => new SendResult(outcome, attempts, duration);
        public static SendResult Refused(int attempts, TimeSpan duration) => new SendResult(null, attempts, duration);
    }

    /// <summary>When a request may start: the quota's pacing, shared by every process using the key.</summary>
    internal interface IPacer
    {
        /// <summary>Waits for this request's turn; returns a refusal instead when the local daily count is spent.</summary>
        Task<ApiOutcome> WaitTurnAsync(CancellationToken cancel);
        /// <summary>Learns from an answer; returns it as the pacer took it (a proxy's 503 page may be the app's overload, not a refusal).</summary>
        /// <param name="besideOnWire">The batch's other requests on the wire when this one was sent.</param>
        Task<ApiOutcome> ObserveAsync(ApiOutcome outcome, int besideOnWire, CancellationToken cancel);
        /// <summary>A turn granted by <see cref="WaitTurnAsync"/> ended with no answer to observe.</summary>
        void TurnAbandoned();
    }

    /// <summary>What the batch says about each attempt: whether it may start, and what its answer means for the rest.</summary>
    internal interface IAttemptPolicy
    {
        /// <summary>Asked inside the in-flight slot, right before the pacing turn; false ends the prompt unsent.</summary>
        Task<bool> MayAttemptAsync(CancellationToken cancel);

        /// <summary>Told of every attempt it let start, while the slot is still held, so a stop it sets up is in place
        /// before the slot can go to another prompt. Null: the attempt got no answer (cancelled).</summary>
        void AttemptEnded(ApiOutcome outcome);
    }

    /// <summary>
    /// Sends one prompt with retries of transient failures: exponential backoff with jitter, Retry-After honoured
    /// (seconds or HTTP date). The in-flight slot is held only during an attempt, never during a backoff wait.
    /// </summary>
    internal sealed class RetryingSender
    {
        private static readonly ThreadLocal<Random> Jitter = new ThreadLocal<Random>(() => new Random(Guid.NewGuid().GetHashCode()));

        private readonly Func<PromptRequest, CancellationToken, Task<ApiOutcome>> _send;
        private readonly RetrySettings _settings;
        private readonly IPacer _pacer;
        private readonly IInFlightGate _inFlight;
        private readonly IAttemptPolicy _policy;
        private int _onWire; // this batch's attempts sent and not yet answered

        /// <param name="send">One attempt (the client with the key and timeout); throws OperationCanceledException only when its token fires.</param>
        public RetryingSender(Func<PromptRequest, CancellationToken, Task<ApiOutcome>> send, RetrySettings settings, IPacer pacer,
                              IInFlightGate inFlight, IAttemptPolicy policy)
        {
            _send = send;
            _settings = settings;
            _pacer = pacer;
            _inFlight = inFlight;
            _policy = policy;
        }

        /// <param name="noNewAttempts">Ends waits for a slot, a turn or a backoff: the prompt ends unsent.</param>
        /// <param name="abort">Cancels an attempt on the wire. Either token firing throws OperationCanceledException.</param>
        /// <param name="trace">Told of every attempt for -Debug; null when nobody traces (nothing is measured for it then).</param>
        /// <param name="followUp">The row was sent before (this is a JSON re-ask): even its first attempt waits ahead of new rows, as retries do.</param>
        public async Task<SendResult> SendAsync(PromptRequest request, CancellationToken noNewAttempts, CancellationToken abort, Action<string> note,
                                                Action<AttemptTrace> trace = null, bool followUp = false)
        {
            Stopwatch sinceFirstSend = null;
            TimeSpan Elapsed() => sinceFirstSend?.Elapsed ?? TimeSpan.Zero;
            for (int attempt = 1; ; attempt++)
            {
                ApiOutcome outcome = null;
                // The pacer's turn is taken inside the in-flight slot: a turn reserved while queued behind the slot
                // would go stale, and stale turns released together are a burst.
                var waited = trace != null ? Stopwatch.StartNew() : null;
                TimeSpan slotWait = TimeSpan.Zero, pacerWait = TimeSpan.Zero;
                await _inFlight.EnterAsync(noNewAttempts, followUp || attempt > 1).ConfigureAwait(false);
                if (waited != null) { slotWait = waited.Elapsed; waited.Restart(); }
                var onWire = new Stopwatch();
                bool started = false, turnTaken = false;
                try
                {
                    if (!await _policy.MayAttemptAsync(noNewAttempts).ConfigureAwait(false))
                        return SendResult.Refused(attempt - 1, Elapsed());
                    started = true;
                    var refused = await _pacer.WaitTurnAsync(noNewAttempts).ConfigureAwait(false);
                    if (waited != null) pacerWait = waited.Elapsed;
                    if (refused != null)
                    {
                        trace?.Invoke(new AttemptTrace(attempt, _settings.MaxRetries + 1, null, TimeSpan.Zero, slotWait, pacerWait));
                        return SendResult.Ended(refused, attempt - 1, Elapsed());
                    }
                    turnTaken = true;
                    noNewAttempts.ThrowIfCancellationRequested(); // a stop may have come during the turn's wait
                    if (sinceFirstSend == null) sinceFirstSend = Stopwatch.StartNew();
                    onWire.Start();
                    int beside = Interlocked.Increment(ref _onWire) - 1;
                    try { outcome = await _send(request, abort).ConfigureAwait(false); }
                    finally { Interlocked.Decrement(ref _onWire); }
                    onWire.Stop();
                    // Learned while the slot is still held: the next prompt to take it is paced by this answer's headers.
                    outcome = await _pacer.ObserveAsync(outcome, beside, CancellationToken.None).ConfigureAwait(false);
                }
                finally
                {
                    if (started) _policy.AttemptEnded(outcome);
                    _inFlight.Exit(new AttemptReport(outcome, onWire.Elapsed));
                    if (turnTaken && outcome == null) _pacer.TurnAbandoned();
                }
                trace?.Invoke(new AttemptTrace(attempt, _settings.MaxRetries + 1, outcome, onWire.Elapsed, slotWait, pacerWait));

                if (outcome.Kind == OutcomeKind.Transient && outcome.RetryAfter > _settings.MaxRetryWait)
                    outcome = QuotaSpent(outcome);

                if (outcome.Kind != OutcomeKind.Transient || attempt > _settings.MaxRetries)
                    return SendResult.Ended(outcome, attempt, Elapsed());

                TimeSpan wait = DelayBefore(attempt + 1, outcome.RetryAfter);
                note?.Invoke(string.Format(CultureInfo.InvariantCulture, "Retrying in {0:0.0} s (attempt {1} of {2}) after {3}: {4}",
                    wait.TotalSeconds, attempt + 1, _settings.MaxRetries + 1, outcome.ErrorId, ResponseParser.Shorten(outcome.ErrorMessage ?? "", 160)));
                await Task.Delay(wait, noNewAttempts).ConfigureAwait(false);
            }
        }

        /// <summary>Backoff before attempt n (n ≥ 2): base·2^(n-2), half fixed and half random; Retry-After wins when longer.</summary>
        internal TimeSpan DelayBefore(int attempt, TimeSpan? retryAfter) => DelayBefore(_settings, attempt, retryAfter, Jitter.Value.NextDouble());

        internal static TimeSpan DelayBefore(RetrySettings settings, int attempt, TimeSpan? retryAfter, double random)
        {
            double ceiling = Math.Min(settings.MaxDelay.TotalMilliseconds, settings.BaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 2));
            double ms = ceiling / 2 + random * ceiling / 2;
            if (retryAfter.HasValue)
                ms = Math.Max(ms, retryAfter.Value.TotalMilliseconds + random * 250);
            return TimeSpan.FromMilliseconds(ms);
        }

        private ApiOutcome QuotaSpent(ApiOutcome outcome) =>
            outcome.As(ErrorIds.DailyQuotaExhausted, string.Format(CultureInfo.InvariantCulture,
                "The API asked to wait {0} s, longer than -MaxRetryWaitSec ({1} s). {2}",
                (long)outcome.RetryAfter.Value.TotalSeconds, (long)_settings.MaxRetryWait.TotalSeconds, outcome.ErrorMessage));
    }
}
