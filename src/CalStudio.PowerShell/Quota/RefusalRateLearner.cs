using System;
using System.Globalization;
using System.Threading;
using CalStudio.Client;

namespace CalStudio.Quota
{
    /// <summary>
    /// Finds the rate a limiter lets through when its refusals say nothing (no rate headers, maybe not even a
    /// Retry-After), and keeps it in the shared state so every process on the key, and the next run, starts from it.
    /// It decides how often a request may start; the in-flight gate still decides how many are on the wire.
    /// - Cold, the first refusal ends a burst: B requests passed since the first start. Requests then go one at a
    ///   time (a probe, 1 s after the refusal, then gaps doubling up to 8 s while refused); the first probe that passes
    ///   found the limiter open again R after the burst began, and B per R, evenly spaced, is the first rate.
    /// - Paced, a refusal cuts the rate (once per window: a burst's worth of requests at the rate, at least 1 s). Soon
    ///   after the rate was set, the estimate was wrong: to 95 % of what passed since the first refusal (the rate the
    ///   limiter kept), at most 90 % of the refused rate; to 70 % while that measure is too short to say. After a long
    ///   run of passes, the creep went just past the limit: back 10 %.
    /// - Each pass creeps the rate up 0.2 %, for a minute after a cut no higher than 95 % of the rate that was refused.
    ///   A new process starts from the rate last decided (the estimate or the cut), not from the creep.
    /// State is <see cref="LearnedRate"/> in <see cref="BudgetState"/>, changed under the budget's lock.
    /// </summary>
    internal sealed class RefusalRateLearner
    {
        private static readonly long FirstProbeGap = TimeSpan.FromSeconds(1).Ticks;
        private static readonly long LongestProbeGap = TimeSpan.FromSeconds(8).Ticks;
        private static readonly long ProbeTimeout = TimeSpan.FromSeconds(2).Ticks;
        // Refusals this close to the first are the same burst's requests in flight (or another process's burst).
        private static readonly long SameBurst = TimeSpan.FromMilliseconds(500).Ticks;
        private static readonly long CutCooldown = TimeSpan.FromSeconds(1).Ticks;
        private static readonly long Plateau = TimeSpan.FromMinutes(1).Ticks;
        // A search left unfinished this long ago, or passes counted since a refusal this old, say nothing about now.
        private static readonly long Forget = TimeSpan.FromMinutes(2).Ticks;
        private static readonly long MinimumMeasure = TimeSpan.FromSeconds(1).Ticks;
        private const double Margin = 1.01, Decrease = 0.7, StepBack = 0.9, MeasuredShare = 0.95, PlateauShare = 0.95, Creep = 0.002;

        // This process's starts before anything was learned: how many the first refusal's burst had.
        private long _firstStart;
        private long _starts;
        private bool _counted;
        private long _passedHere; // passes this process saw since its start or its last cut
        private long _passedInProcess; // passes this process saw since its start
        private volatile bool _engaged;

        /// <summary>Refusals without hints were seen (here or, through the state, by an earlier run): starts go through the learner.</summary>
        public bool Engaged => _engaged;

        public void Recall(BudgetState s) { if (s.Learned.Engaged) _engaged = true; }

        /// <summary>A request starts (paced or not).</summary>
        public void NoteStart(long t)
        {
            Interlocked.CompareExchange(ref _firstStart, t, 0);
            Interlocked.Increment(ref _starts);
        }

        /// <summary>Ticks to wait before a start may be decided; 0 to go on.</summary>
        public long WaitBeforeStart(BudgetState s, long t, long poll)
        {
            var l = s.Learned;
            if (l.Spacing > 0 || l.RefusedAt == 0) return 0;
            if (t - l.RefusedAt > Forget) { s.Learned = new LearnedRate(); return 0; }
            return l.ProbeAt > t ? Math.Min(l.ProbeAt - t, poll) : 0;
        }

        /// <summary>Ticks to keep between starts; 0 when no rate is learned.</summary>
        public long Spacing(BudgetState s) => s.Learned.Spacing;

        /// <summary>A start was reserved at <paramref name="start"/>: while searching, it is the probe, alone until answered.</summary>
        public void Started(BudgetState s, long start)
        {
            bool firstHere = Interlocked.Read(ref _firstStart) == 0;
            NoteStart(start);
            var l = s.Learned;
            // A new run starts from the rate last decided, not from where an earlier run's creep left it: the creep
            // passed there by luck as often as not (a fixed window's phase), and a second run must not pay for it in refusals.
            if (firstHere && l.Spacing > 0 && l.DecidedSpacing > l.Spacing) l.Spacing = l.DecidedSpacing;
            if (l.Spacing > 0 || l.RefusedAt == 0) return;
            l.ProbeAt = start + ProbeTimeout;
            l.CutAt = start; // while searching: the probe's start
        }

        /// <summary>Whether the answer teaches the learner: a refusal without rate headers, or a pass once engaged.</summary>
        public bool Learns(ApiOutcome o) =>
            o.RateLimit?.Remaining == null && (o.IsRefusal || (o.IsSuccess && _engaged));

        public void Observe(BudgetState s, ApiOutcome o, long t, int othersInFlight)
        {
            if (!Learns(o)) return;
            if (o.IsRefusal) { _engaged = true; Refused(s, o, t, othersInFlight); }
            else Passed(s.Learned, t);
        }

        private void Refused(BudgetState s, ApiOutcome o, long t, int othersInFlight)
        {
            var l = s.Learned;
            l.From = o.StatusCode == 503 ? 2 : 1;
            if (l.Spacing == 0)
            {
                long passed = Math.Max(1, Interlocked.Read(ref _starts) - othersInFlight - 1);
                if (l.RefusedAt == 0 || t - l.RefusedAt > Forget)
                {
                    s.Learned = l = new LearnedRate { From = l.From, RefusedAt = t, ProbeGap = FirstProbeGap, ProbeAt = t + FirstProbeGap };
                    l.BurstStart = Interlocked.Read(ref _firstStart);
                    l.BurstPassed = passed;
                    _counted = true;
                }
                else if (t < l.RefusedAt + SameBurst)
                {
                    if (_counted) return; // the same burst's requests in flight
                    l.BurstPassed += passed; // another process's burst into the same limiter
                    l.BurstStart = Math.Min(l.BurstStart, Interlocked.Read(ref _firstStart));
                    _counted = true;
                }
                else
                {
                    l.ProbeGap = Math.Min(l.ProbeGap * 2, LongestProbeGap); // a probe refused: still closed
                    l.ProbeAt = t + l.ProbeGap;
                }
                return;
            }
            // A window still holds the requests sent before the cut: its refusals are not news (one burst's worth at this rate).
            if (t < l.CutAt + Math.Max(CutCooldown, Math.Max(1, l.BurstPassed) * l.Spacing)) return;
            double rate = TimeSpan.TicksPerSecond / (double)l.Spacing;
            // A long run of passes at this rate, seen by this process (a rate an earlier run left is an estimate to check).
            bool longRun = Math.Min(l.PassedSinceCut, Interlocked.Read(ref _passedHere)) >= 2 * Math.Max(5, l.BurstPassed);
            double next = rate * (longRun ? StepBack : Decrease);
            // What the limiter let through since the first refusal, when known, is a better guess than a fixed cut:
            // a rate refused just past the limit goes back 10 %, not 30 % (and a run then starts near the limit, not below it).
            if (!longRun && Measured(l, t) is double kept) next = Math.Min(rate * StepBack, kept * MeasuredShare);
            l.RefusedSpacing = l.Spacing;
            l.Spacing = l.DecidedSpacing = (long)(TimeSpan.TicksPerSecond / next);
            l.CutAt = t;
            l.PassedSinceCut = 0;
            Interlocked.Exchange(ref _passedHere, 0);
        }

        private void Passed(LearnedRate l, long t)
        {
            Interlocked.Increment(ref _passedHere);
            Interlocked.Increment(ref _passedInProcess);
            if (l.Spacing == 0)
            {
                if (l.RefusedAt == 0) return;
                if (l.CutAt <= l.RefusedAt)
                {
                    // A request of the burst, in flight at the first refusal and answered late: not a probe, but one more that passed.
                    l.BurstPassed++;
                    return;
                }
                // The probe passed: the limiter let BurstPassed through between the burst's start and the probe's.
                l.Spacing = l.DecidedSpacing = Math.Max(TimeSpan.TicksPerMillisecond, (long)((l.CutAt - l.BurstStart) * Margin / l.BurstPassed));
                l.CutAt = t;
                l.ProbeAt = 0;
                l.PassedSinceCut = 1;
                l.PassedSince = 1;
                return;
            }
            l.PassedSince++;
            l.PassedSinceCut++;
            long crept = (long)(l.Spacing * (1 - Creep));
            long floor = l.RefusedSpacing > 0 && t - l.CutAt < Plateau ? (long)(l.RefusedSpacing / PlateauShare) : 0;
            if (crept >= floor) l.Spacing = crept;
        }

        /// <summary>
        /// Requests per second that passed since the first refusal, when that says something (long enough, recent).
        /// A measure begun before this process started (an earlier run's)
        /// counts from this process's first start and its own passes, so the idle time between runs is not read as a limit.
        /// </summary>
        private double? Measured(LearnedRate l, long t)
        {
            long first = Interlocked.Read(ref _firstStart);
            bool inherited = l.RefusedAt < first;
            long since = t - (inherited ? first : l.RefusedAt);
            long passed = inherited ? Interlocked.Read(ref _passedInProcess) : l.PassedSince;
            if (l.RefusedAt == 0 || since < MinimumMeasure || t - l.RefusedAt > Forget && !inherited || passed < 3) return null;
            return passed * (double)TimeSpan.TicksPerSecond / since;
        }

        public static double? PerSecond(BudgetState s) =>
            s.Learned.Spacing > 0 ? TimeSpan.TicksPerSecond / (double)s.Learned.Spacing : (double?)null;

        /// <summary>What is obeyed, in words ("learned 3.3/s from 429s without headers"), or null when nothing.</summary>
        public static string Describe(BudgetState s)
        {
            var l = s.Learned;
            string from = l.From == 2 ? "HTTP 503 pages without headers" : "429s without headers";
            if (l.Spacing > 0) return "learned " + PerSecond(s).Value.ToString("0.0#", CultureInfo.InvariantCulture) + "/s from " + from;
            if (l.RefusedAt > 0) return "searching for the rate after " + from + ": one request at a time";
            return null;
        }
    }
}
