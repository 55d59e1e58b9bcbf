using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using CalStudio.Client;
using CalStudio.Engine;
using Xunit;

namespace CalStudio.Tests
{
    /// <summary>The in-flight controller on a simulated clock: no sleeping, no sockets, every figure deterministic.</summary>
    public class AdaptiveInFlightGateTests
    {
        /// <summary>
        /// A batch with an endless backlog against a simulated app, stepped 10 ms at a time: a row enters the gate,
        /// waits for the pacer's turn (one per 1/rate s, as RequestPacer spaces them), then the app answers after its
        /// latency, or at once with a 503 when it already serves <see cref="OverloadPast"/> requests.
        /// </summary>
        private sealed class Simulation
        {
            private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(10);
            private readonly List<(TimeSpan At, int Status, TimeSpan Latency)> _answers = new List<(TimeSpan, int, TimeSpan)>();
            private readonly Queue<int> _waitingForTurn = new Queue<int>();
            private Task _entering;
            private TimeSpan _nextTurn;

            public Simulation(double? perSecond, int? ceiling = null)
            {
                Rate = perSecond;
                Gate = new AdaptiveInFlightGate(ceiling, () => Rate, () => Now);
            }

            public TimeSpan Now { get; private set; }
            public double? Rate { get; set; }
            public AdaptiveInFlightGate Gate { get; }
            public TimeSpan Latency { get; set; } = TimeSpan.FromSeconds(1);
            public int? OverloadPast { get; set; }
            /// <summary>Every n-th request gets a 500 at once, whatever the load: a stray fault, not an overload.</summary>
            public int FaultEvery { get; set; }
            private int _sent;
            public int ServerInFlight { get; private set; }
            public int Answered { get; private set; }
            public int Overloaded { get; private set; }
            public int MaxLevel { get; private set; }

            /// <summary>Runs for <paramref name="seconds"/>; returns the levels seen at each step.</summary>
            public List<int> Run(double seconds)
            {
                var levels = new List<int>();
                var end = Now + TimeSpan.FromSeconds(seconds);
                while (Now < end)
                {
                    Now += Step;
                    Gate.Refresh(); // the batch's timer
                    foreach (var done in _answers.Where(a => a.At <= Now).ToList())
                    {
                        _answers.Remove(done);
                        if (done.Status == 200) { ServerInFlight--; Answered++; }
                        var outcome = done.Status == 200
                            ? new ApiOutcome { Kind = OutcomeKind.Success, StatusCode = 200 }
                            : new ApiOutcome { Kind = OutcomeKind.Transient, StatusCode = done.Status };
                        Gate.Exit(new AttemptReport(outcome, done.Latency));
                    }
                    // Rows enter one after another, as the batch's queued rows do; each holds its slot until answered.
                    while ((_entering ?? (_entering = Gate.EnterAsync(CancellationToken.None))).IsCompleted)
                    {
                        _entering = null;
                        _waitingForTurn.Enqueue(0);
                    }
                    double spacing = Rate.HasValue ? 1 / Rate.Value : 0;
                    while (_waitingForTurn.Count > 0 && _nextTurn <= Now)
                    {
                        _waitingForTurn.Dequeue();
                        _nextTurn = (_nextTurn > Now - Step ? _nextTurn : Now) + TimeSpan.FromSeconds(spacing);
                        Send();
                    }
                    levels.Add(Gate.Level);
                    MaxLevel = Math.Max(MaxLevel, Gate.Level);
                }
                return levels;
            }

            private void Send()
            {
                if (FaultEvery > 0 && ++_sent % FaultEvery == 0)
                {
                    _answers.Add((Now, 500, TimeSpan.FromMilliseconds(2)));
                    return;
                }
                if (OverloadPast.HasValue && ServerInFlight >= OverloadPast.Value)
                {
                    Overloaded++;
                    _answers.Add((Now, 503, TimeSpan.FromMilliseconds(2)));
                    return;
                }
                ServerInFlight++;
                _answers.Add((Now + Latency, 200, Latency));
            }

            /// <summary>Answers per second over a run of <paramref name="seconds"/>.</summary>
            public double Throughput(double seconds)
            {
                int before = Answered;
                Run(seconds);
                return (Answered - before) / seconds;
            }
        }

        private static int Needed(double perSecond, double latencySeconds) => (int)Math.Ceiling(perSecond * latencySeconds * 1.2) + 2;

        [Fact]
        public void With_no_rate_known_the_level_is_the_fixed_default_or_the_given_limit()
        {
            var unknown = new Simulation(perSecond: null);
            unknown.Run(30);
            Assert.Equal(AdaptiveInFlightGate.UnknownRateLevel, unknown.Gate.Level);
            Assert.Equal(4, unknown.MaxLevel);
            Assert.StartsWith("4 in flight: the allowed rate is not known", unknown.Gate.Reason);

            var given = new Simulation(perSecond: null, ceiling: 16);
            given.Run(30);
            Assert.Equal(16, given.Gate.Level);
            Assert.Equal(16, given.MaxLevel);
            Assert.StartsWith("16 in flight: -ThrottleLimit", given.Gate.Reason);
        }

        [Fact]
        public void A_known_rate_sets_rate_times_latency_and_the_batch_reaches_the_rate()
        {
            var sim = new Simulation(perSecond: 10) { Latency = TimeSpan.FromSeconds(2) };
            sim.Run(30);
            Assert.Equal(Needed(10, 2), sim.Gate.Level);
            Assert.Equal("26 in flight: 10.0/s × 2.0 s latency", sim.Gate.Reason);
            Assert.InRange(sim.Throughput(30), 9.5, 10.05);
        }

        [Fact]
        public void Before_the_first_answer_the_level_grows_with_the_age_of_the_requests_in_flight()
        {
            // A 10 s app: no latency is known for 10 s, yet the pacer's 10/s must not wait on a fixed 4.
            var sim = new Simulation(perSecond: 10) { Latency = TimeSpan.FromSeconds(10) };
            sim.Run(9.9);
            Assert.Equal(0, sim.Answered);
            Assert.True(sim.Gate.InFlight >= 95, "in flight after 9.9 s: " + sim.Gate.InFlight);
            Assert.InRange(sim.Throughput(20), 9.5, 10.05);
            Assert.Equal(Needed(10, 10), sim.Gate.Level);
        }

        [Fact]
        public void A_rate_learned_later_replaces_the_fixed_default()
        {
            var sim = new Simulation(perSecond: null) { Latency = TimeSpan.FromSeconds(3) };
            sim.Run(10);
            Assert.Equal(4, sim.Gate.Level);
            sim.Rate = 5; // as when the first X-RateLimit headers arrive
            sim.Run(30);
            Assert.Equal(Needed(5, 3), sim.Gate.Level);
        }

        [Fact]
        public void A_sharp_slowdown_cuts_at_once_then_the_level_grows_back_slowly_to_the_new_latency()
        {
            var sim = new Simulation(perSecond: 10) { Latency = TimeSpan.FromSeconds(1) };
            sim.Run(30);
            int before = sim.Gate.Level;
            Assert.Equal(Needed(10, 1), before);

            sim.Latency = TimeSpan.FromSeconds(4);
            var levels = sim.Run(8);
            int lowest = levels.Min();
            // Cut to half of what the app handled before it slowed (the first slow answers raised the target for a moment).
            Assert.True(lowest <= before * 0.6, "lowest level after the step: " + lowest + ", before: " + before);
            Assert.Contains("answers slowed from", sim.Gate.Reason);

            // Growing back: not in one jump, but steadily, until the target of the new latency.
            var growing = sim.Run(20);
            Assert.True(growing.Last() > lowest && growing.Last() < Needed(10, 4), "level after 20 s: " + growing.Last());
            Assert.Contains("answers slowed from", sim.Gate.Reason);
            sim.Run(90);
            Assert.Equal(Needed(10, 4), sim.Gate.Level);
            Assert.InRange(sim.Throughput(20), 9.5, 10.05);
        }

        [Fact]
        public void When_latency_steps_down_the_level_follows_without_a_cut()
        {
            var sim = new Simulation(perSecond: 10) { Latency = TimeSpan.FromSeconds(4) };
            sim.Run(40);
            Assert.Equal(Needed(10, 4), sim.Gate.Level);
            sim.Latency = TimeSpan.FromSeconds(1);
            sim.Run(20);
            Assert.Equal(Needed(10, 1), sim.Gate.Level);
            Assert.Equal("14 in flight: 10.0/s × 1.0 s latency", sim.Gate.Reason);
            Assert.InRange(sim.Throughput(10), 9.5, 10.05);
        }

        [Fact]
        public void An_app_overloaded_past_8_in_flight_gets_a_level_near_8_and_few_overload_answers()
        {
            // The rate and latency alone would ask for 26 in flight.
            var sim = new Simulation(perSecond: 10) { Latency = TimeSpan.FromSeconds(2), OverloadPast = 8 };
            sim.Run(20);
            int overloadedEarly = sim.Overloaded;
            int answeredEarly = sim.Answered;
            var settled = sim.Run(120);
            Assert.InRange(settled.Average(), 5, 9.5);
            Assert.True(settled.Max() <= 12, "max level while settled: " + settled.Max());
            int overloads = sim.Overloaded - overloadedEarly, answers = sim.Answered - answeredEarly;
            Assert.True(overloads * 5 <= answers, overloads + " overload answers for " + answers + " answers");
            Assert.True(answers >= 0.6 * 120 * 8 / 2.0, "answers while settled: " + answers);
            Assert.Contains("the app answered HTTP 503", sim.Gate.Reason);
        }

        [Fact]
        public void Stray_500s_among_good_answers_trim_the_level_without_wearing_it_down()
        {
            var sim = new Simulation(perSecond: 10) { Latency = TimeSpan.FromSeconds(2), FaultEvery = 25 };
            sim.Run(20);
            var levels = sim.Run(60);
            Assert.True(levels.Min() < Needed(10, 2), "the 500s were never felt"); // the test can fail both ways
            Assert.True(levels.Average() >= 0.75 * Needed(10, 2), "average level: " + levels.Average());
            Assert.InRange(sim.Throughput(30), 9.0, 10.05);
        }

        [Fact]
        public void A_429_holds_the_level_where_it_is()
        {
            var sim = new Simulation(perSecond: 10) { Latency = TimeSpan.FromSeconds(2) };
            sim.Run(30);
            int level = sim.Gate.Level;
            sim.Gate.Exit(new AttemptReport(new ApiOutcome { Kind = OutcomeKind.Transient, StatusCode = 429 }, TimeSpan.FromMilliseconds(5)));
            sim.Latency = TimeSpan.FromSeconds(3); // would raise the target, and not sharply enough to cut
            var held = sim.Run(1.9);
            Assert.All(held, l => Assert.Equal(level, l));
            Assert.Contains("held after a 429", sim.Gate.Reason);
            sim.Run(30);
            Assert.Equal(Needed(10, 3), sim.Gate.Level);
        }

        [Fact]
        public void A_given_limit_is_the_ceiling_and_the_default_ceiling_fits_a_20_s_app_at_600_a_minute()
        {
            var capped = new Simulation(perSecond: 10, ceiling: 20) { Latency = TimeSpan.FromSeconds(10) };
            capped.Run(40);
            Assert.Equal(20, capped.Gate.Level);
            Assert.Equal(20, capped.MaxLevel);
            Assert.StartsWith("20 in flight: -ThrottleLimit (10.0/s × 10.0 s latency would need more)", capped.Gate.Reason);

            var proPlus = new Simulation(perSecond: 10) { Latency = TimeSpan.FromSeconds(20) };
            proPlus.Run(60);
            Assert.Equal(Needed(10, 20), proPlus.Gate.Level);
            Assert.True(Needed(10, 20) <= AdaptiveInFlightGate.DefaultCeiling);
            Assert.InRange(proPlus.Throughput(20), 9.5, 10.05);
        }

        [Fact]
        public async Task Follow_ups_wait_ahead_of_first_attempts_in_their_own_order_and_a_cancelled_one_keeps_the_order()
        {
            var now = TimeSpan.Zero;
            var gate = new AdaptiveInFlightGate(1, () => null, () => now);
            await gate.EnterAsync(CancellationToken.None);
            var waiting = new List<KeyValuePair<string, Task>>();
            using (var cancel = new CancellationTokenSource())
            {
                void Wait(string name, bool followUp, CancellationToken token = default) => waiting.Add(new KeyValuePair<string, Task>(name, gate.EnterAsync(token, followUp)));
                Wait("row 2", false);
                Wait("row 3", false);
                Wait("re-ask 1", true);
                Wait("retry 1", true, cancel.Token);
                Wait("row 4", false);
                Wait("retry 2", true);
                cancel.Cancel(); // a follow-up leaves the queue: the next one still goes after re-ask 1
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting[3].Value);
                waiting.RemoveAt(3);
                Wait("re-ask 2", true);
            }
            var admitted = new List<string>();
            for (int i = 0; i < 6; i++)
            {
                gate.Exit(new AttemptReport(null, TimeSpan.Zero)); // one slot frees, one waiter takes it
                admitted.AddRange(waiting.Where(w => w.Value.IsCompleted && !admitted.Contains(w.Key)).Select(w => w.Key));
            }
            Assert.Equal(new[] { "re-ask 1", "retry 2", "re-ask 2", "row 2", "row 3", "row 4" }, admitted);
        }

        [Fact]
        public async Task A_cancelled_waiter_leaves_the_queue_without_a_slot()
        {
            var now = TimeSpan.Zero;
            var gate = new AdaptiveInFlightGate(2, () => null, () => now);
            await gate.EnterAsync(CancellationToken.None);
            await gate.EnterAsync(CancellationToken.None);
            using (var cancel = new CancellationTokenSource())
            {
                var waiting = gate.EnterAsync(cancel.Token);
                var next = gate.EnterAsync(CancellationToken.None);
                Assert.False(waiting.IsCompleted);
                cancel.Cancel();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
                gate.Exit(new AttemptReport(null, TimeSpan.Zero));
                Assert.True(next.IsCompleted); // the slot went to the next waiter, not the cancelled one
                Assert.Equal(2, gate.InFlight);
            }
            gate.Exit(new AttemptReport(null, TimeSpan.Zero));
            gate.Exit(new AttemptReport(null, TimeSpan.Zero));
            Assert.True(gate.WhenIdleAsync().IsCompleted);
        }
    }
}
