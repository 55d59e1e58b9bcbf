using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CalStudio.Client;
using CalStudio.Quota;

namespace CalStudio.Tests
{
    public enum SimWindow { Fixed, Sliding, Bucket, Anchored }
    public enum SimReset { Epoch, Delta, None, WholeEpoch, /* no headers, no Retry-After: a bare 429 */ Nothing, /* a proxy's HTML 503, nothing said */ Html503 }

    /// <summary>
    /// A server's rate window on a virtual clock (ticks), counting as the emulator's --window-kind does, written independently
    /// of it: fixed windows on boundaries at multiples of the window, a sliding log, a token bucket. Rejected requests do not count.
    /// </summary>
    internal sealed class SimServer
    {
        private readonly SimWindow _kind;
        private int _limit;
        private readonly long _window;
        private long _fixedStart = long.MinValue;
        private int _fixedCount;
        private readonly Queue<long> _log = new Queue<long>();
        private double _tokens;
        private long _bucketTime;

        public SimServer(SimWindow kind, int limit, TimeSpan window)
        {
            _kind = kind; _limit = limit; _window = window.Ticks; _tokens = limit;
        }

        public int Limit => _limit;

        /// <summary>The limit changes mid-run (a plan downgraded, a shared limiter busier).</summary>
        public void SetLimit(int limit) { _limit = limit; _tokens = Math.Min(_tokens, limit); }

        /// <summary>Allowed, Remaining, Reset (when the window is entirely free), RetryAfter (whole seconds, rounded up).</summary>
        public (bool Allowed, int Remaining, long Reset, int RetryAfter) Check(long t)
        {
            switch (_kind)
            {
                case SimWindow.Fixed:
                case SimWindow.Anchored:
                    long start = _kind == SimWindow.Fixed ? t - t % _window
                        : _fixedStart == long.MinValue || t >= _fixedStart + _window ? t : _fixedStart;
                    if (start != _fixedStart) { _fixedStart = start; _fixedCount = 0; }
                    if (_fixedCount >= _limit) return (false, 0, start + _window, Ceil(start + _window - t));
                    _fixedCount++;
                    return (true, _limit - _fixedCount, start + _window, 0);
                case SimWindow.Sliding:
                    while (_log.Count > 0 && _log.Peek() <= t - _window) _log.Dequeue();
                    if (_log.Count >= _limit) return (false, 0, _log.Last() + _window, Ceil(_log.Peek() + _window - t));
                    _log.Enqueue(t);
                    return (true, _limit - _log.Count, t + _window, 0);
                default:
                    double perTick = _limit / (double)_window;
                    _tokens = Math.Min(_limit, _tokens + (t - _bucketTime) * perTick);
                    _bucketTime = t;
                    if (_tokens < 1) return (false, 0, t + (long)((_limit - _tokens) / perTick), Ceil((long)((1 - _tokens) / perTick)));
                    _tokens -= 1;
                    return (true, (int)Math.Floor(_tokens), t + (long)Math.Ceiling((_limit - _tokens) / perTick), 0);
            }
        }

        private static int Ceil(long ticks) => (int)Math.Max(1, (ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond);
    }

    /// <summary>
    /// Plays a batch against a <see cref="SimServer"/> on a virtual clock with the pacer's own decisions: each process has
    /// ThrottleLimit workers, each takes the next prompt, asks Decide until it may start, and observes the answer one latency
    /// later; a 429 is retried after its Retry-After (as RetryingSender does). No sleeping: time jumps from event to event.
    /// </summary>
    internal sealed class PacingSimulator
    {
        public static readonly long Origin = new DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero).UtcTicks; // a multiple of 3 s since the epoch
        private readonly SimServer _server;
        private readonly SimReset _reset;
        private readonly long _latency;
        private readonly SortedList<(long, long), Action> _events = new SortedList<(long, long), Action>();
        private long _sequence;

        public PacingSimulator(SimServer server, SimReset reset, TimeSpan latency)
        {
            _server = server; _reset = reset; _latency = latency.Ticks;
        }

        public int Rejected { get; private set; }
        public int Answered { get; private set; }
        public int Sent { get; private set; }
        public long LastAnswer { get; private set; }
        /// <summary>When the last request that was answered started (the rate a batch kept, apart from the latency).</summary>
        public long LastStart { get; private set; }
        /// <summary>Told of every request: start (s from Origin), allowed, Remaining; for a failing test's output.</summary>
        public Action<string> Trace { get; set; }

        /// <summary>One process: its pacer, prompts and in-flight limit; every process shares <paramref name="state"/> (the state file).</summary>
        public void AddProcess(RequestPacer pacer, BudgetState state, int prompts, int throttleLimit, long startAt)
        {
            int left = prompts;
            int inFlight = 0;
            pacer.Recall(state);
            for (int w = 0; w < throttleLimit; w++)
            {
                void Take(long t) { if (left > 0) { left--; Turn(t); } }
                void Turn(long t)
                {
                    // In flight from the moment the pacer lets it go, as WaitTurnAsync counts it.
                    if (!pacer.Active) { inFlight++; pacer.StartedUnpaced(t); Send(t); return; }
                    var d = pacer.Decide(state, t);
                    if (d.Denied != null) throw new InvalidOperationException("denied");
                    if (d.Wait < 0 || (!d.Reserved && d.Wait == 0)) throw new InvalidOperationException("the pacer asked for no progress");
                    if (d.Reserved) inFlight++;
                    At(t + d.Wait, d.Reserved ? (Action<long>)Send : Turn);
                }
                void Send(long t)
                {
                    Sent++;
                    OnSend?.Invoke(Sent);
                    var answer = _server.Check(t);
                    Trace?.Invoke($"{(t - Origin) / (double)TimeSpan.TicksPerSecond:0.000} {(answer.Allowed ? "ok" : "429")} rem {answer.Remaining} left {state.WindowLeft}");
                    At(t + Latency(), ta =>
                    {
                        inFlight--;
                        pacer.EndTurn(); // as ObserveAsync: the turn ends, then the answer is learned
                        pacer.Observe(state, Outcome(answer, t, ta), ta, inFlight);
                        Trace?.Invoke($"  {(ta - Origin) / (double)TimeSpan.TicksPerSecond:0.000} answer {(answer.Allowed ? "ok" : "429")} of {(t - Origin) / (double)TimeSpan.TicksPerSecond:0.000} rem {answer.Remaining}, others {inFlight}: left {state.WindowLeft} server {state.ServerLeft} window {state.WindowLength / (double)TimeSpan.TicksPerSecond:0.000} opened {(state.WindowOpened == 0 ? 0 : (state.WindowOpened - Origin) / (double)TimeSpan.TicksPerSecond):0.000}");
                        if (answer.Allowed) { Answered++; LastAnswer = Math.Max(LastAnswer, ta); LastStart = Math.Max(LastStart, t); Take(ta); }
                        else { Rejected++; At(ta + RetryDelay(answer.RetryAfter), Turn); }
                    });
                }
                At(startAt, Take);
            }
        }

        private long _answers;

        /// <summary>After a refusal: its Retry-After, or with nothing said the sender's first backoff (0.5 to 1 s).</summary>
        private long RetryDelay(int retryAfter) =>
            Hinted ? TimeSpan.FromSeconds(retryAfter).Ticks + TimeSpan.FromMilliseconds(100).Ticks : TimeSpan.FromMilliseconds(500 + _answers * 53 % 500).Ticks;

        private bool Hinted => _reset != SimReset.Nothing && _reset != SimReset.Html503;

        /// <summary>Called for every request the server sees, with its start; a test changes the server mid-run here.</summary>
        public Action<int> OnSend { get; set; }

        /// <summary>The latency give or take 40 % (a fixed sequence), so answers overtake each other as they do on sockets.</summary>
        private long Latency() => _latency * (60 + (_answers++ * 37 % 81)) / 100;

        private ApiOutcome Outcome((bool Allowed, int Remaining, long Reset, int RetryAfter) a, long arrival, long answeredAt)
        {
            var observed = new DateTimeOffset(answeredAt, TimeSpan.Zero);
            DateTimeOffset? reset = _reset == SimReset.Epoch ? new DateTimeOffset(a.Reset, TimeSpan.Zero)
                : _reset == SimReset.WholeEpoch ? new DateTimeOffset(CeilSecond(a.Reset), TimeSpan.Zero)
                : _reset == SimReset.Delta ? observed.AddTicks(a.Reset - arrival) // the delta was written when the request arrived
                : (DateTimeOffset?)null;
            var limits = new RateLimitSnapshot { Limit = _server.Limit, Remaining = a.Remaining, Reset = reset, ObservedAt = observed };
            if (!Hinted)
                return a.Allowed
                    ? new ApiOutcome { Kind = OutcomeKind.Success, StatusCode = 200 }
                    : new ApiOutcome { Kind = OutcomeKind.Transient, StatusCode = _reset == SimReset.Html503 ? 503 : 429, IsRefusal = true };
            return a.Allowed
                ? new ApiOutcome { Kind = OutcomeKind.Success, StatusCode = 200, RateLimit = limits }
                : new ApiOutcome { Kind = OutcomeKind.Transient, StatusCode = 429, RetryAfter = TimeSpan.FromSeconds(a.RetryAfter), RateLimit = limits, IsRefusal = true };
        }

        private static long CeilSecond(long ticks) => (ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond;

        private void At(long t, Action<long> action) => _events.Add((t, _sequence++), () => action(t));

        public void Run()
        {
            for (int steps = 0; _events.Count > 0; steps++)
            {
                if (steps > 1000000) throw new InvalidOperationException("the simulation does not end");
                var action = _events.Values[0];
                _events.RemoveAt(0);
                action();
            }
        }

        public static RequestPacer NewPacer(int? perMinute) =>
            new RequestPacer(new SharedBudget(Path.Combine(Path.GetTempPath(), "calstudio-sim", "unused.budget")), perMinute, null);
    }
}
