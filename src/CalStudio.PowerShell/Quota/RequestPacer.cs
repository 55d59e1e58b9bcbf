using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using CalStudio.Client;

namespace CalStudio.Quota
{
    /// <summary>
    /// Decides when the next request may start so a batch uses the whole quota without running into 429s, whatever
    /// kind of window the API keeps (fixed, sliding, token bucket; Reset as epoch, delta or absent):
    /// - a configured requests per minute is spread evenly (1 % slower, so arrival jitter cannot put one request too
    ///   many into a sliding window), slots taken at most one ahead; the headers slow it only when they show a lower
    ///   rate than the plan's, or a window spent that frees sooner than a sliding one would (a fixed window the plan's
    ///   delayed first requests overran);
    /// - within a window answers overtake each other: the fewest left any answer showed, less the requests still in
    ///   flight, is what is left;
    /// - without one, the X-RateLimit-* headers are followed: start while the window shows requests left, and when it
    ///   shows none wait for its Reset. Without a Reset, wait for the answers of requests in flight, then probe one
    ///   request at a time: a 429's Retry-After tells how long the window found open lasts, and the requests a later
    ///   probe finds free tell how fast a bucket refills (the next probe comes no sooner after the last start).
    ///   Spreading what is left over the time to Reset would slow down harmonically on a sliding window, whose Reset
    ///   keeps moving a window ahead;
    /// - a 429's Retry-After pauses every request on the key, unless it is longer than the longest pause (a spent daily
    ///   quota is the sender's business, not a pause to share), and a stored pause beyond that limit is ignored.
    /// State lives in a <see cref="SharedBudget"/> file so every runspace and process using the key shares it. With no
    /// limit configured and nothing learned, requests go straight through (the in-flight limit bounds the burst).
    /// </summary>
    internal sealed class RequestPacer : CalStudio.Engine.IPacer
    {
        private static readonly long WindowMargin = TimeSpan.FromMilliseconds(30).Ticks;
        // Headers whose reset is further away than this describe a daily quota, which stops a batch instead of pacing it.
        private static readonly TimeSpan LongestWindow = TimeSpan.FromMinutes(5);
        private static readonly long ProbeTimeout = TimeSpan.FromSeconds(2).Ticks;
        private static readonly long PollInterval = TimeSpan.FromMilliseconds(50).Ticks;
        private const double PlanMargin = 1.01;
        // Resets this close are one window: a delta Reset moves with each answer's latency.
        private static readonly long SameWindow = TimeSpan.FromMilliseconds(250).Ticks;
        // The headers override a configured rate only when the rate they show is clearly lower.
        private const double HeaderRateTolerance = 0.95;

        private readonly int? _perMinute;
        private readonly int? _perDay;
        private readonly long _maxPause;
        private readonly SharedBudget _budget;
        private readonly SpentDay _spentDay;
        private volatile bool _limitsSeen;
        private int _fileChecked;
        private int _inFlight; // requests this process started and has not yet observed
        private volatile bool _answered; // an answer has come to this process
        private static readonly TimeSpan FirstAnswerWait = TimeSpan.FromSeconds(2);
        private readonly UnpacedCount _unpaced = new UnpacedCount();
        private double _learnedPerSecond; // written under the budget lock, read without
        private readonly RefusalRateLearner _learner = new RefusalRateLearner(); // the rate when refusals say nothing
        private double _refusalPerSecond; // the learner's, written under the budget lock
        private int _refusals;
        private readonly OverloadTell _overloads = new OverloadTell(); // a 503 page from a busy app's proxy is not a refusal
        // Within a window with a Reset, as this process saw it (written under the budget lock): at its first answer, all the
        // server had counted and the turns this process had ended; later turns ended (answered, with headers or not, or
        // abandoned) are accounted one each. The server's count beyond the accounted is requests still in flight whose
        // answers were overtaken: already in ServerLeft, so not subtracted again. Over-accounting only errs slow.
        private long _countedAtWindow;
        private long _endedAtWindow;
        private long _foreignStartsAtWindow;
        private long _ownStarts;
        private long _endedTurns;

        /// <param name="maxPause">The longest Retry-After shared as a pause (-MaxRetryWaitSec); longer ones, stored or new, are ignored.</param>
        public RequestPacer(SharedBudget budget, int? perMinute, int? perDay, TimeSpan? maxPause = null)
        {
            _budget = budget;
            _perMinute = perMinute;
            _perDay = perDay;
            _maxPause = Math.Min((maxPause ?? LongestWindow).Ticks, LongestWindow.Ticks);
            _spentDay = new SpentDay(budget, maxPause ?? new CalStudio.Engine.RetrySettings().MaxRetryWait);
        }

        public static RequestPacer Create(ApiKey key, Uri baseUri, int? perMinute, int? perDay, TimeSpan? maxPause = null)
        {
            string name = key.Fingerprint(baseUri.GetLeftPart(UriPartial.Authority));
            return new RequestPacer(new SharedBudget(Path.Combine(SharedBudget.DefaultFolder(), name + ".budget")), perMinute, perDay, maxPause);
        }

        /// <summary>The rate (requests per second) the pacer believes it may use: the configured one, else the one the headers showed; null when nothing is known.</summary>
        public double? AllowedPerSecond =>
            _perMinute.HasValue ? _perMinute.Value / 60.0 : _learnedPerSecond > 0 ? _learnedPerSecond : _refusalPerSecond > 0 ? _refusalPerSecond : (double?)null;

        /// <summary>Refusals (429s, a proxy limiter's 503 pages) this process has seen.</summary>
        public int Refusals => Volatile.Read(ref _refusals);

        private long Spacing => _perMinute.HasValue ? (long)(TimeSpan.TicksPerMinute * PlanMargin / _perMinute.Value) : 0;

        /// <summary>Whether starts go through <see cref="Decide"/>: a limit is configured or has been learned.</summary>
        internal bool Active => _perMinute.HasValue || _perDay.HasValue || _limitsSeen || _learner.Engaged;

        /// <summary>Waits for this request's turn; returns a QuotaExhausted outcome instead when today's local count is spent.</summary>
        public async Task<ApiOutcome> WaitTurnAsync(CancellationToken cancel)
        {
            if (_spentDay.Refusal(DateTimeOffset.UtcNow) is ApiOutcome spent) return spent;
            if (Interlocked.Exchange(ref _fileChecked, 1) == 0 && !Active && File.Exists(_budget.Path))
                Recall(_budget.Read());
            // With a configured rate, this process's first request goes alone: a fresh process sends it late (connection,
            // JIT), and slots taken meanwhile would reach the server bunched behind it, one too many in its window.
            for (var alone = Stopwatch.StartNew(); _perMinute.HasValue && !_answered && Volatile.Read(ref _inFlight) > 0 && alone.Elapsed < FirstAnswerWait;)
                await Task.Delay(TimeSpan.FromTicks(PollInterval), cancel).ConfigureAwait(false);
            bool counted = false;
            while (Active)
            {
                var decision = await _budget.UpdateAsync(state => Decide(state, DateTimeOffset.UtcNow.UtcTicks), cancel).ConfigureAwait(false);
                if (decision.Denied != null) return decision.Denied;
                if (decision.Wait > 0) await Task.Delay(TimeSpan.FromTicks(decision.Wait), cancel).ConfigureAwait(false);
                if (decision.Reserved) { counted = true; break; }
            }
            if (!counted) await _unpaced.CountAsync(_budget, Today, cancel).ConfigureAwait(false); // RequestsToday without a plan
            if (!Active) StartedUnpaced(DateTimeOffset.UtcNow.UtcTicks);
            Interlocked.Increment(ref _inFlight);
            return null;
        }

        /// <summary>Limits learned by an earlier run on this machine (in the state file) pace this one from its first request.</summary>
        internal void Recall(BudgetState s)
        {
            if (s.WindowLimit > 0) _limitsSeen = true;
            _learner.Recall(s);
            _refusalPerSecond = RefusalRateLearner.PerSecond(s) ?? 0;
        }

        /// <summary>A request went straight through (nothing to pace by): the learner counts the burst a first refusal ends.</summary>
        internal void StartedUnpaced(long t) => _learner.NoteStart(t);

        internal PacerDecision Decide(BudgetState s, long t)
        {
            var now = new DateTimeOffset(t, TimeSpan.Zero);
            int today = Today(now);
            if (s.Day != today) { s.Day = today; s.DayCount = 0; }
            if (_spentDay.Check(s, now) is ApiOutcome spentDay) return new PacerDecision { Denied = spentDay };

            if (_perDay.HasValue && s.DayCount >= _perDay.Value)
            {
                var midnight = new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
                var denied = ApiOutcome.Failure(ErrorIds.DailyQuotaExhausted, 0,
                    "Today's " + _perDay.Value + " requests (-RequestsPerDay) are used up on this machine.").WithHeaders(null, null, midnight - now);
                return new PacerDecision { Denied = denied };
            }

            if (s.PauseUntil - t > _maxPause) s.PauseUntil = 0; // stored by an older version or another setting: never sleep that long
            if (s.PauseUntil > t) return new PacerDecision { Wait = s.PauseUntil - t };
            s.PauseUntil = 0;
            long searching = _learner.WaitBeforeStart(s, t, PollInterval);
            if (searching > 0) return new PacerDecision { Wait = searching };

            if (s.WindowReset != 0 && s.WindowReset <= t)
            {
                // The window is entirely free again (its Reset, whatever the scheme): assume so until an answer says otherwise.
                s.WindowLeft = s.WindowLimit;
                s.ServerLeft = s.WindowLimit;
                s.WindowReset = 0;
            }

            long start = t;
            if (HeadersApply(s) && s.WindowLeft <= 0)
            {
                // Room the answers showed, held only by requests still on their way: their answers may free it (out of order).
                if (s.WindowReset > t && s.ServerLeft > 0) return new PacerDecision { Wait = Math.Min(s.WindowReset - t + WindowMargin, PollInterval) };
                if (s.WindowReset > t) return new PacerDecision { Wait = s.WindowReset - t + WindowMargin };
                // No Reset header, room held only by requests in flight: their answers tell whether it is really spent
                // (a probe sent now would get an older request's answer taken for its own). A turn abandoned on the
                // wire never answers, so this wait ends a probe timeout after the last start.
                if (s.ResetSent == 0 && s.ServerLeft > 0 && t < s.LastStart + ProbeTimeout) return new PacerDecision { Wait = PollInterval };
                // No Reset header: wait a learned window after it was last found open, then probe with one request;
                // its answer says how many are left, or its 429's Retry-After how long the window really is.
                if (s.ProbeUntil > t) return new PacerDecision { Wait = Math.Min(s.ProbeUntil - t, PollInterval) };
                if (s.ResetSent != 0 && s.ProbeUntil == 0)
                {
                    // The window turned and this window's requests are spent before any answer brought its Reset: wait for one.
                    s.ProbeUntil = t + ProbeTimeout;
                    return new PacerDecision { Wait = PollInterval };
                }
                long opensAt = s.WindowLength > 0 && s.WindowOpened > 0 ? s.WindowOpened + s.WindowLength : 0;
                // A bucket refills a request at least every RefillTicks: after the last start, one more can pass.
                if (s.RefillTicks > 0 && opensAt > 0) opensAt = Math.Max(opensAt, s.LastStart + s.RefillTicks);
                if (opensAt > t) return new PacerDecision { Wait = opensAt - t + WindowMargin };
                s.ProbeUntil = t + ProbeTimeout;
                s.WindowOpened = t;
            }
            if (_perMinute.HasValue || _learner.Spacing(s) > 0)
            {
                // A window the answers show full (a sliding window at the plan's rate always is) leaves no room for
                // arrivals bunched by a loaded machine: space the next slot 4 % wider.
                long spacing = Math.Max(s.WindowLimit > 0 && s.ServerLeft <= 0 ? Spacing * 104 / 100 : Spacing, _learner.Spacing(s));
                start = Math.Max(t, s.NextSlot);
                // Slots are taken at most one ahead, so the check below sees the answers of the slots before.
                if (start - t > spacing) return new PacerDecision { Wait = start - t - spacing };
                if (_perMinute.HasValue && PlanOverranWindow(s, start)) start = s.WindowReset + WindowMargin;
                s.NextSlot = start + spacing;
            }
            s.DayCount++;
            _ownStarts++;
            s.LastStart = start;
            _learner.Started(s, start);
            if (s.WindowLimit > 0) s.WindowLeft--;
            return new PacerDecision { Wait = start - t, Reserved = true };
        }

        /// <summary>
        /// With a configured rate: whether the window is spent (as the answers showed it, less the slots taken since)
        /// and frees sooner than a sliding window would (about a window after its newest request; half a window tells them apart). Then the server's window began before the plan's (a fixed
        /// window, first requests delayed and bunched), and the slot waits for its Reset rather than meet a 429.
        /// </summary>
        private static bool PlanOverranWindow(BudgetState s, long start) =>
            s.WindowLimit > 2 && s.WindowLeft <= 0 && s.WindowReset > start && s.WindowLength > 0 &&
            s.WindowReset - start < s.WindowLength / 2;

        /// <summary>Whether the window's headers limit starts: always without a configured rate, else only when they show a lower rate.</summary>
        private bool HeadersApply(BudgetState s)
        {
            if (s.WindowLimit <= 0) return false;
            if (!_perMinute.HasValue) return true;
            if (s.WindowLength <= 0) return false; // no Reset to learn the window from: only 429s slow the plan
            double headerPerMinute = s.WindowLimit * (double)TimeSpan.TicksPerMinute / s.WindowLength;
            return headerPerMinute < _perMinute.Value * HeaderRateTolerance;
        }

        /// <summary>Learns from an answer: rate-limit headers, and a 429's Retry-After as a pause for every request.</summary>
        public void Observe(ApiOutcome outcome) => ObserveAsync(outcome, 0, CancellationToken.None).GetAwaiter().GetResult();

        /// <summary>As <see cref="Observe(ApiOutcome)"/>, without blocking a pool thread while another process holds the state file.</summary>
        public async Task<ApiOutcome> ObserveAsync(ApiOutcome outcome, int besideOnWire, CancellationToken cancel)
        {
            if (outcome == null) return null;
            outcome = _overloads.Judge(outcome, besideOnWire);
            await _spentDay.ObserveAsync(outcome, cancel).ConfigureAwait(false);
            int othersInFlight = EndTurn();
            if (outcome.IsRefusal) Interlocked.Increment(ref _refusals);
            bool first = !_answered;
            _answered = true;
            if (first && _perMinute.HasValue) // the schedule restarts behind the first answer
                await _budget.UpdateAsync(s => { s.NextSlot = Math.Max(s.NextSlot, DateTimeOffset.UtcNow.UtcTicks + Spacing); return true; }, cancel).ConfigureAwait(false);
            if (Learns(outcome))
                await _budget.UpdateAsync(s => Observe(s, outcome, DateTimeOffset.UtcNow.UtcTicks, othersInFlight), cancel).ConfigureAwait(false);
            return outcome;
        }

        /// <summary>A turn that ended without an answer (cancelled on the wire): no longer in flight, nothing to learn.</summary>
        public void TurnAbandoned() => EndTurn();

        internal int EndTurn()
        {
            Interlocked.Increment(ref _endedTurns);
            int othersInFlight = Interlocked.Decrement(ref _inFlight);
            if (othersInFlight < 0) { Interlocked.Increment(ref _inFlight); othersInFlight = 0; } // an end without a turn
            return othersInFlight;
        }

        private bool Learns(ApiOutcome outcome) =>
            outcome.Kind != OutcomeKind.QuotaExhausted && (outcome.RateLimit?.Remaining != null || IsRateLimited(outcome) || _learner.Learns(outcome));

        private static bool IsRateLimited(ApiOutcome outcome) => outcome.IsRefusal || (outcome.StatusCode == 429 && outcome.Kind == OutcomeKind.Transient);

        /// <param name="othersInFlight">Requests this process started that the server may not have counted in this answer.</param>
        internal bool Observe(BudgetState s, ApiOutcome outcome, long t, int othersInFlight)
        {
            if (!Learns(outcome)) return false;
            _limitsSeen = true;
            var limits = outcome.RateLimit;
            if (limits?.Remaining != null)
            {
                long? reset = limits.Reset?.UtcTicks;
                if (reset - t > LongestWindow.Ticks) return false; // a daily quota: the sender stops, pacing does not wait
                PacingDescription.NoteForm(s, limits, LongestWindow);
                bool probeAnswer = !reset.HasValue && s.ProbeUntil != 0 && othersInFlight == 0;
                // The first answer of a window (or a probe's) tells how many are left; within a window answers arrive out of
                // order, so the fewest shown counts. A Reset clearly later than any seen is a newer window (or a sliding window
                // or bucket moving on); a Reset already past describes a window that is over.
                bool firstOfWindow = s.WindowLimit <= 0 ||
                    (reset.HasValue ? s.WindowReset == 0 || reset > s.WindowReset + SameWindow : probeAnswer);
                bool windowOver = reset <= t;
                // A late answer of an earlier window ended a turn this window's count never had.
                if (windowOver || reset < s.WindowReset - SameWindow) _endedAtWindow++;
                if (s.WindowLimit <= 0 && !reset.HasValue) s.WindowOpened = t;
                int remaining = limits.Remaining.Value;
                // A probe that found the window only partly free (a sliding window's older requests still in it, a bucket
                // refilling): probe again a request's share of the window later, not a whole window later.
                if (!reset.HasValue && outcome.StatusCode != 429) BucketRefill.Learn(s, remaining, t, othersInFlight);
                if (probeAnswer && s.WindowLength > 0 && limits.Limit.HasValue && remaining < limits.Limit.Value - 1)
                    s.WindowOpened += Math.Max(s.WindowLength / limits.Limit.Value, s.RefillTicks) - s.WindowLength;
                s.WindowLimit = limits.Limit ?? Math.Max(s.WindowLimit, remaining);
                if (reset > t)
                {
                    long observedAt = limits.ObservedAt == default(DateTimeOffset) ? t : Math.Min(t, limits.ObservedAt.UtcTicks);
                    // A Reset in whole seconds was probably rounded up: learn the shortest window it allows, so a
                    // configured rate is overridden only when even that shows a lower rate.
                    long rounding = reset.Value % TimeSpan.TicksPerSecond == 0 ? TimeSpan.TicksPerSecond : 0;
                    s.WindowLength = Math.Max(s.WindowLength, reset.Value - rounding - observedAt);
                    s.WindowReset = Math.Max(s.WindowReset, reset.Value);
                }
                if (!windowOver)
                {
                    // The answer counts the requests that reached the server before it; those still on their way will count too.
                    s.ServerLeft = firstOfWindow ? remaining : Math.Min(s.ServerLeft, remaining);
                    s.WindowLeft = (int)s.ServerLeft - (othersInFlight - Overtaken(s, firstOfWindow, reset.HasValue, remaining, othersInFlight));
                }
                if (probeAnswer || reset.HasValue) s.ProbeUntil = 0;
                s.ResetSent = reset.HasValue ? 1 : 0;
                if (s.WindowLength > 0) _learnedPerSecond = s.WindowLimit * (double)TimeSpan.TicksPerSecond / s.WindowLength;
            }
            if (IsRateLimited(outcome))
            {
                long wait = (outcome.RetryAfter ?? TimeSpan.FromSeconds(1)).Ticks;
                if (wait <= _maxPause) s.PauseUntil = Math.Max(s.PauseUntil, t + wait);
                // Without a Reset header, the Retry-After shows how long the window found open at WindowOpened lasts.
                if (outcome.RateLimit?.Reset == null && s.WindowOpened > 0 && wait <= LongestWindow.Ticks)
                    s.WindowLength = Math.Max(s.WindowLength, t + wait - s.WindowOpened);
                if (outcome.RateLimit?.Reset == null)
                {
                    // Spent when the 429'd request arrived, no later than the probe's start (WindowOpened) or the window's opening.
                    s.SpentAt = s.WindowOpened > 0 ? Math.Min(t, s.WindowOpened) : t;
                    s.SpentCount = s.DayCount;
                }
                s.WindowLeft = 0;
                s.ProbeUntil = 0;
            }
            _learner.Observe(s, outcome, t, othersInFlight);
            _refusalPerSecond = RefusalRateLearner.PerSecond(s) ?? 0;
            return true;
        }

        /// <summary>
        /// Of this process's requests in flight, how many the server counted before the answer that showed the fewest left
        /// (answers overtook them: a long, uneven latency). Zero without a Reset (no window to count in) or when another
        /// process started requests in this window since its first answer (their answers are not accounted here).
        /// </summary>
        private int Overtaken(BudgetState s, bool firstOfWindow, bool hasReset, int remaining, int othersInFlight)
        {
            long foreignStarts = s.DayCount - _ownStarts;
            long ended = Interlocked.Read(ref _endedTurns);
            if (firstOfWindow || !hasReset)
            {
                _countedAtWindow = s.WindowLimit - remaining;
                _endedAtWindow = ended;
                _foreignStartsAtWindow = foreignStarts;
                return 0;
            }
            if (foreignStarts != _foreignStartsAtWindow) return 0;
            long accounted = _countedAtWindow + ended - _endedAtWindow;
            long counted = s.WindowLimit - s.ServerLeft;
            return (int)Math.Max(0, Math.Min(othersInFlight, counted - accounted));
        }

        public QuotaSnapshot Snapshot()
        {
            var snapshot = new QuotaSnapshot { RequestsPerMinute = _perMinute, RequestsPerDay = _perDay };
            var s = _budget.Read(); // never writes the file
            var now = DateTimeOffset.UtcNow;
            snapshot.RequestsToday = (s.Day == Today(now) ? s.DayCount : 0) + _unpaced.Pending;
            snapshot.DailyQuotaSpentUntil = SpentDay.Until(s, now);
            snapshot.Obeying = PacingDescription.Describe(s, _perMinute, _perDay);
            if (s.WindowLimit > 0)
            {
                snapshot.Limit = s.WindowLimit;
                snapshot.Remaining = s.WindowReset > now.UtcTicks ? Math.Max(0, s.WindowLeft) : s.WindowLimit;
                snapshot.Reset = s.WindowReset > 0 ? new DateTimeOffset(s.WindowReset, TimeSpan.Zero) : (DateTimeOffset?)null;
            }
            return snapshot;
        }

        /// <summary>A batch ends: requests let straight through are added to today's shared count now, not a second later.</summary>
        public void FlushCount() => _unpaced.FlushAsync(_budget, Today, CancellationToken.None).GetAwaiter().GetResult();

        /// <summary>A command starts: see <see cref="SharedBudget.Check"/>.</summary>
        public void CheckStateFile() { _budget.Check(); _spentDay.Recall(_budget.Read()); }

        /// <summary>The budget's warning that the state file is unusable, once; the cmdlets write it.</summary>
        public bool TryTakeWarning(out string warning) => _budget.TryTakeWarning(out warning);

        /// <summary>Requests still allowed today by -RequestsPerDay, or null without a daily limit.</summary>
        public int? RemainingToday()
        {
            if (!_perDay.HasValue) return null;
            return Math.Max(0, _perDay.Value - Snapshot().RequestsToday);
        }

        private static int Today(DateTimeOffset now) => now.UtcDateTime.Year * 10000 + now.UtcDateTime.Month * 100 + now.UtcDateTime.Day;
    }
}
