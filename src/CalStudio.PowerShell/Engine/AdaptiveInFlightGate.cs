using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using CalStudio.Client;

namespace CalStudio.Engine
{
    /// <summary>
    /// Requests in flight that follow the app's latency. An app answers in seconds while the quota counts per minute,
    /// so by Little's law a batch reaches its allowed rate r only with about r × latency requests on the wire.
    /// With r known (a plan, -RequestsPerMinute, or the rate-limit headers, as the pacer believes it), the level is
    /// r × latency plus headroom, up to the ceiling (-ThrottleLimit, or <see cref="DefaultCeiling"/>); the pacer still
    /// decides when each request starts. With r unknown the level is fixed: -ThrottleLimit, or 4.
    /// The app is protected by a second limit, the overload cap: 5xx answers or a sharp slowdown cut it at once
    /// (to a share of what was in flight), and good answers grow it back slowly. A 429 holds the level for a while:
    /// it is the quota speaking, which the pacer handles, not the app.
    /// Thread-safe; time comes from an injectable clock so the policy can be tested on a simulated one.
    /// </summary>
    internal sealed class AdaptiveInFlightGate : IInFlightGate
    {
        /// <summary>Enough for a 20 s app at 600 requests/minute with headroom (10/s × 20 s × 1.2 + 2 = 242).</summary>
        public const int DefaultCeiling = 256;
        /// <summary>In flight while nothing is known about the rate: as before this gate existed.</summary>
        public const int UnknownRateLevel = 4;

        // Target = ceil(r × latency × HeadroomFactor) + HeadroomSlots: a slot is also held while waiting for the
        // pacer's turn, and latencies vary around their mean.
        private const double HeadroomFactor = 1.2;
        private const int HeadroomSlots = 2;
        // Recent latency (what the target uses) and the longer-run baseline a sharp slowdown is measured against.
        private const double RecentWeight = 0.2;
        private const double BaselineWeight = 0.02;
        private const double SharpSlowdownFactor = 2.0;
        private static readonly TimeSpan SharpSlowdownMargin = TimeSpan.FromMilliseconds(250);
        // An overload cut keeps (1 - share of overload answers since the last cut) of the level, within these bounds:
        // a burst of 503s halves it, a stray 500 among many good answers trims it (so random faults do not wear it down).
        private const double DeepestOverloadShrink = 0.5;
        private const double LightestOverloadShrink = 0.85;
        private const double SlowdownShrink = 0.5;
        // Each good answer adds this to a binding cap: about +20% per round trip of the requests in flight.
        private const double GrowthPerAnswer = 0.2;
        // One cut per round trip: the overload answers of one burst are one signal, not many.
        private static readonly TimeSpan MinimumCooldown = TimeSpan.FromMilliseconds(500);
        private static readonly TimeSpan RateRereadEvery = TimeSpan.FromMilliseconds(500);

        private enum Limiter { UnknownRate, GivenUnknownRate, Latency, Ceiling, Overload, Slowdown }

        private sealed class Waiter
        {
            public readonly TaskCompletionSource<bool> Entered = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            public CancellationTokenRegistration Registration;
        }

        private readonly object _sync = new object();
        private readonly int _ceiling;
        private readonly bool _ceilingGiven;
        private readonly Func<double?> _allowedPerSecond;
        private readonly Func<TimeSpan> _clock;
        private readonly TimeSpan? _refreshEvery;
        private readonly FollowUpFirstQueue<Waiter> _waiters = new FollowUpFirstQueue<Waiter>();
        private TaskCompletionSource<bool> _idle = IdleSignal.New(completed: true);

        private int _inFlight;
        private int _level;
        private Limiter _limiter;
        private double? _rate;
        private TimeSpan? _rateReadAt;
        private TimeSpan? _recentLatency;
        private TimeSpan? _baselineLatency;
        private TimeSpan _busySince;
        private TimeSpan _lastExit;
        private double _cap = double.PositiveInfinity;
        private int _answersSinceCut;
        private int _overloadsSinceCut;
        private TimeSpan _noCutUntil = TimeSpan.MinValue;
        private TimeSpan _heldUntil = TimeSpan.MinValue;
        private string _capCause;
        private Limiter _capLimiter;
        private bool _refreshScheduled;

        /// <param name="givenCeiling">-ThrottleLimit when the user gave it; null for <see cref="DefaultCeiling"/>.</param>
        /// <param name="allowedPerSecond">The rate the pacer believes it may use, or null when unknown.</param>
        /// <param name="clock">Monotonic time; null for a stopwatch.</param>
        /// <param name="refreshEvery">How often a full gate re-reads the clock and the rate while requests wait
        /// (the oldest request's age raises the latency estimate before any answer comes); null: only on enter and exit.</param>
        public AdaptiveInFlightGate(int? givenCeiling, Func<double?> allowedPerSecond, Func<TimeSpan> clock = null, TimeSpan? refreshEvery = null)
        {
            if (givenCeiling < 1) throw new ArgumentOutOfRangeException(nameof(givenCeiling));
            _ceilingGiven = givenCeiling.HasValue;
            _ceiling = givenCeiling ?? DefaultCeiling;
            _allowedPerSecond = allowedPerSecond ?? (() => null);
            if (clock == null)
            {
                var watch = Stopwatch.StartNew();
                clock = () => watch.Elapsed;
            }
            _clock = clock;
            _refreshEvery = refreshEvery;
            lock (_sync) Recompute(_clock());
        }

        /// <summary>The gate a batch uses: re-checks four times a second while requests wait.</summary>
        public static AdaptiveInFlightGate ForBatch(int? givenCeiling, Func<double?> allowedPerSecond) =>
            new AdaptiveInFlightGate(givenCeiling, allowedPerSecond, clock: null, refreshEvery: TimeSpan.FromMilliseconds(250));

        public int InFlight { get { lock (_sync) return _inFlight; } }

        /// <summary>How many requests may be in flight now.</summary>
        public int Level { get { lock (_sync) return _level; } }

        /// <summary>The level and why, e.g. "12 in flight: 2.0/s × 5.1 s latency".</summary>
        public string Reason { get { lock (_sync) return DescribeLocked(); } }

        public Task EnterAsync(CancellationToken cancel, bool followUp = false)
        {
            cancel.ThrowIfCancellationRequested();
            Waiter waiter;
            lock (_sync)
            {
                var now = _clock();
                Recompute(now);
                if (_waiters.Count == 0 && _inFlight < _level)
                {
                    TakeSlot(now);
                    return Task.CompletedTask;
                }
                waiter = new Waiter();
                var node = _waiters.Add(waiter, followUp);
                if (cancel.CanBeCanceled)
                    waiter.Registration = cancel.Register(() => CancelWaiter(node));
                ScheduleRefresh();
            }
            return waiter.Entered.Task;
        }

        public void Exit(AttemptReport report)
        {
            List<Waiter> admitted;
            TaskCompletionSource<bool> idle = null;
            lock (_sync)
            {
                var now = _clock();
                int inFlightAtAnswer = _inFlight;
                _inFlight--;
                _lastExit = now;
                Learn(report, inFlightAtAnswer, now);
                Recompute(now);
                admitted = AdmitWaiters(now);
                if (_inFlight == 0) idle = _idle;
            }
            Release(admitted);
            idle?.TrySetResult(true);
        }

        public Task WhenIdleAsync() { lock (_sync) return _idle.Task; }

        /// <summary>Re-reads the clock and the rate and lets waiters in if the level grew (the batch's timer, or a test).</summary>
        public void Refresh()
        {
            List<Waiter> admitted;
            lock (_sync)
            {
                _refreshScheduled = false;
                var now = _clock();
                Recompute(now);
                admitted = AdmitWaiters(now);
                if (_waiters.Count > 0) ScheduleRefresh();
            }
            Release(admitted);
        }

        // ---- policy ----

        private void Learn(AttemptReport report, int inFlightAtAnswer, TimeSpan now)
        {
            var outcome = report.Outcome;
            if (outcome == null || outcome.StatusCode == 0) return; // cancelled, refused locally, or no answer (timeouts are retried)
            if (outcome.StatusCode == 429)
            {
                _heldUntil = now + Cooldown();
                return;
            }
            _answersSinceCut++;
            if (outcome.StatusCode >= 500)
            {
                _overloadsSinceCut++;
                double share = (double)_overloadsSinceCut / _answersSinceCut;
                double shrink = Math.Max(DeepestOverloadShrink, Math.Min(LightestOverloadShrink, 1 - share));
                Cut(shrink, Limiter.Overload, inFlightAtAnswer, now, "the app answered HTTP " + outcome.StatusCode.ToString(CultureInfo.InvariantCulture) +
                    " at " + inFlightAtAnswer.ToString(CultureInfo.InvariantCulture) + " in flight");
                return;
            }

            // An answer from the app: its latency counts.
            var latency = report.Latency;
            _recentLatency = _recentLatency.HasValue ? Blend(_recentLatency.Value, latency, RecentWeight) : latency;
            _baselineLatency = _baselineLatency.HasValue ? Blend(_baselineLatency.Value, latency, BaselineWeight) : latency;
            var recent = _recentLatency.Value;
            var baseline = _baselineLatency.Value;
            if (recent.Ticks > SharpSlowdownFactor * baseline.Ticks + SharpSlowdownMargin.Ticks)
            {
                // Cut from what the app handled before it slowed (the target has been rising with the slow answers).
                // The new latency becomes the baseline: one cut per step, and the level grows back towards the new target.
                _baselineLatency = recent;
                int handled = _rate.HasValue ? Math.Min(inFlightAtAnswer, Needed(_rate.Value, baseline)) : inFlightAtAnswer;
                Cut(SlowdownShrink, Limiter.Slowdown, handled, now, "answers slowed from " + Seconds(baseline) + " to " + Seconds(recent));
                return;
            }
            // Grow a cap only while it is what limits the level, so it stays meaningful.
            if (!double.IsPositiveInfinity(_cap) && _level >= (int)_cap)
            {
                _cap += GrowthPerAnswer;
                if (_cap >= _ceiling) { _cap = double.PositiveInfinity; _capCause = null; }
            }
        }

        private void Cut(double shrink, Limiter why, int inFlight, TimeSpan now, string cause)
        {
            if (now < _noCutUntil) return;
            double basis = Math.Min(inFlight, Math.Min(_cap, _level));
            _cap = Math.Max(1, Math.Floor(basis * shrink));
            _capCause = cause;
            _capLimiter = why;
            _answersSinceCut = _overloadsSinceCut = 0;
            _noCutUntil = now + Cooldown();
            _heldUntil = TimeSpan.MinValue; // a hold must not keep the level above the cut
        }

        private TimeSpan Cooldown() =>
            _recentLatency.HasValue && _recentLatency.Value > MinimumCooldown ? _recentLatency.Value : MinimumCooldown;

        private void Recompute(TimeSpan now)
        {
            if (_rateReadAt == null || now - _rateReadAt.Value >= RateRereadEvery)
            {
                double? rate = _allowedPerSecond();
                _rate = rate > 0 && !double.IsInfinity(rate.Value) ? rate : null;
                _rateReadAt = now;
            }
            if (now < _heldUntil) return;

            int target;
            Limiter limiter;
            if (_rate == null)
            {
                target = _ceilingGiven ? _ceiling : Math.Min(_ceiling, UnknownRateLevel);
                limiter = _ceilingGiven ? Limiter.GivenUnknownRate : Limiter.UnknownRate;
            }
            else
            {
                target = Needed(_rate.Value, LatencyEstimate(now));
                limiter = Limiter.Latency;
                if (target > _ceiling) { target = _ceiling; limiter = Limiter.Ceiling; }
            }
            if (_cap < target)
            {
                target = (int)_cap;
                limiter = _capLimiter;
            }
            _level = Math.Max(1, target);
            _limiter = limiter;
        }

        /// <summary>
        /// The recent latency; before the first answer, the age every request in flight has at least reached, which grows
        /// as they wait (so a 10 s app is not held at a few requests for its first 10 s). Once answers come, a silence
        /// does not raise the level: a sharp slowdown is met with a cut when its answers arrive, not with more requests.
        /// </summary>
        private TimeSpan LatencyEstimate(TimeSpan now)
        {
            if (_recentLatency.HasValue) return _recentLatency.Value;
            if (_inFlight == 0) return TimeSpan.Zero;
            return now - (_lastExit > _busySince ? _lastExit : _busySince);
        }

        private static int Needed(double perSecond, TimeSpan latency) =>
            (int)Math.Min(int.MaxValue / 2, Math.Ceiling(perSecond * latency.TotalSeconds * HeadroomFactor)) + HeadroomSlots;

        private string DescribeLocked()
        {
            var inv = CultureInfo.InvariantCulture;
            string level = _level.ToString(inv) + " in flight: ";
            string need = _rate.HasValue
                ? _rate.Value.ToString("0.0", inv) + "/s × " + Seconds(_recentLatency ?? LatencyEstimate(_clock())) + " latency"
                : null;
            string held = _clock() < _heldUntil ? " (held after a 429)" : "";
            switch (_limiter)
            {
                case Limiter.UnknownRate: return level + "the allowed rate is not known, so a fixed default" + held;
                case Limiter.GivenUnknownRate: return level + "-ThrottleLimit; the allowed rate is not known" + held;
                case Limiter.Latency: return level + need + held;
                case Limiter.Ceiling: return level + (_ceilingGiven ? "-ThrottleLimit" : "the default ceiling") + " (" + need + " would need more)" + held;
                default: return level + _capCause + ", so fewer, growing back slowly" + (need != null ? " (" + need + ")" : "") + held;
            }
        }

        private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";

        private static TimeSpan Blend(TimeSpan average, TimeSpan sample, double weight) =>
            TimeSpan.FromTicks((long)(average.Ticks + weight * (sample.Ticks - average.Ticks)));

        // ---- slots ----

        private void TakeSlot(TimeSpan now)
        {
            if (_inFlight++ == 0)
            {
                _busySince = now;
                _idle = IdleSignal.New(completed: false);
            }
        }

        private List<Waiter> AdmitWaiters(TimeSpan now)
        {
            List<Waiter> admitted = null;
            while (_waiters.Count > 0 && _inFlight < _level)
            {
                var waiter = _waiters.TakeFirst();
                TakeSlot(now);
                (admitted ?? (admitted = new List<Waiter>())).Add(waiter);
            }
            return admitted;
        }

        private static void Release(List<Waiter> admitted)
        {
            if (admitted == null) return;
            foreach (var waiter in admitted)
            {
                waiter.Registration.Dispose();
                waiter.Entered.TrySetResult(true);
            }
        }

        private void CancelWaiter(LinkedListNode<Waiter> node)
        {
            lock (_sync)
            {
                if (!_waiters.Remove(node)) return; // already admitted
            }
            node.Value.Entered.TrySetCanceled();
        }

        private void ScheduleRefresh()
        {
            if (_refreshEvery == null || _refreshScheduled) return;
            _refreshScheduled = true;
            Task.Delay(_refreshEvery.Value).ContinueWith(_ => Refresh(), TaskScheduler.Default);
        }
    }
}
