using System;
using CalStudio.Quota;
using Xunit;
using Xunit.Abstractions;

namespace CalStudio.Tests
{
    /// <summary>
    /// The pacer against each kind of rate window on a virtual clock (no sleeping): 40 prompts at a limit of 10 per 3 s,
    /// ThrottleLimit 8, 50 ms latency give or take 40 %. Ideal: 9 s with bursts (headers only), 39 evenly spaced gaps of 0.3 s with a rate.
    /// </summary>
    public class PacerSchemeTests
    {
        private static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(50);
        private static readonly TimeSpan Window = TimeSpan.FromSeconds(3);
        private const int Limit = 10, Prompts = 40, ThrottleLimit = 8;
        private const int PerMinute = 200; // the server's rate, as -RequestsPerMinute
        private readonly ITestOutputHelper _out;

        public PacerSchemeTests(ITestOutputHelper output) { _out = output; }

        private static double Seconds(long ticks) => ticks / (double)TimeSpan.TicksPerSecond;

        private static readonly long Start = PacingSimulator.Origin + TimeSpan.FromMilliseconds(10).Ticks;

        private PacingSimulator Play(SimWindow kind, SimReset reset, int? perMinute, int processes = 1, BudgetState state = null, long start = 0)
        {
            var sim = new PacingSimulator(new SimServer(kind, Limit, Window), reset, Latency);
            var trace = new System.Text.StringBuilder();
            sim.Trace = line => trace.Append(line).Append("; ");
            state = state ?? new BudgetState();
            start = start == 0 ? Start : start;
            for (int p = 0; p < processes; p++)
                sim.AddProcess(PacingSimulator.NewPacer(perMinute), state, Prompts / processes, ThrottleLimit, start);
            sim.Run();
            _out.WriteLine($"{kind}/{reset} rate {perMinute?.ToString() ?? "-"} x{processes}: {Seconds(sim.LastAnswer - start):0.00} s, {sim.Rejected} x 429, {sim.Answered} answered");
            _out.WriteLine(trace.ToString());
            Assert.Equal(Prompts, sim.Answered);
            return sim;
        }

        private static double Wall(PacingSimulator sim, long start = 0) => Seconds(sim.LastAnswer - (start == 0 ? Start : start));

        [Theory]
        [InlineData(SimWindow.Fixed, SimReset.Epoch)]
        [InlineData(SimWindow.Fixed, SimReset.Delta)]
        [InlineData(SimWindow.Sliding, SimReset.Epoch)]
        [InlineData(SimWindow.Sliding, SimReset.Delta)]
        [InlineData(SimWindow.Bucket, SimReset.Epoch)]
        [InlineData(SimWindow.Bucket, SimReset.Delta)]
        internal void Headers_alone_come_within_15_percent_of_the_ideal_with_at_most_two_429s(SimWindow kind, SimReset reset)
        {
            var sim = Play(kind, reset, perMinute: null);
            double ideal = 9 + Latency.TotalSeconds;
            Assert.InRange(Wall(sim), ideal * 0.5, ideal * 1.15);
            Assert.InRange(sim.Rejected, 0, 2);
        }

        [Theory]
        [InlineData(SimWindow.Fixed, 10)]
        [InlineData(SimWindow.Fixed, 1000)]
        [InlineData(SimWindow.Fixed, 2000)]
        [InlineData(SimWindow.Fixed, 2700)]
        [InlineData(SimWindow.Sliding, 10)]
        [InlineData(SimWindow.Sliding, 1500)]
        [InlineData(SimWindow.Bucket, 10)]
        [InlineData(SimWindow.Bucket, 1500)]
        internal void Without_a_Reset_header_the_window_is_learned_within_15_percent_with_at_most_two_429s(SimWindow kind, int phaseMs)
        {
            // The run starts phaseMs into a fixed window (boundaries at multiples of 3 s): the first window is partly gone.
            long start = PacingSimulator.Origin + TimeSpan.FromMilliseconds(phaseMs).Ticks;
            var sim = Play(kind, SimReset.None, perMinute: null, start: start);
            Assert.InRange(Wall(sim, start), 9 - 3, (9 + Latency.TotalSeconds) * 1.15);
            Assert.InRange(sim.Rejected, 0, 2);
        }

        [Theory]
        [InlineData(SimWindow.Fixed, SimReset.Epoch)]
        [InlineData(SimWindow.Fixed, SimReset.None)]
        [InlineData(SimWindow.Sliding, SimReset.Epoch)]
        [InlineData(SimWindow.Sliding, SimReset.Delta)]
        [InlineData(SimWindow.Sliding, SimReset.None)]
        [InlineData(SimWindow.Bucket, SimReset.Epoch)]
        [InlineData(SimWindow.Bucket, SimReset.None)]
        internal void A_rate_equal_to_the_servers_comes_within_10_percent_of_the_plans_ideal(SimWindow kind, SimReset reset)
        {
            var sim = Play(kind, reset, PerMinute);
            double ideal = (Prompts - 1) * 60.0 / PerMinute + Latency.TotalSeconds;
            Assert.InRange(Wall(sim), ideal * 0.95, ideal * 1.10);
            Assert.InRange(sim.Rejected, 0, 2);
        }

        [Theory]
        [InlineData(SimWindow.Fixed)]
        [InlineData(SimWindow.Sliding)]
        [InlineData(SimWindow.Bucket)]
        internal void Two_processes_on_one_key_share_the_rate(SimWindow kind)
        {
            var sim = Play(kind, SimReset.Epoch, PerMinute, processes: 2);
            double ideal = (Prompts - 1) * 60.0 / PerMinute + Latency.TotalSeconds;
            Assert.InRange(Wall(sim), ideal * 0.95, ideal * 1.2);
            Assert.InRange(sim.Rejected, 0, 2);
        }

        [Theory]
        [InlineData(SimWindow.Anchored, 300)]
        [InlineData(SimWindow.Anchored, 900)]
        [InlineData(SimWindow.Fixed, 300)]
        internal void A_long_latency_app_at_a_given_rate_keeps_90_percent_of_it(SimWindow kind, int phaseMs)
        {
            // Issue 14's ProPlus-like row: 200 per 20 s (whole-second epoch Reset), a 10 s app, 400 prompts, -RequestsPerMinute 600:
            // a hundred requests are in flight and every header is 10 s stale when it arrives.
            const int prompts = 400, perWindow = 200, perMinute = 600, inFlight = 130;
            var latency = TimeSpan.FromSeconds(10);
            long start = PacingSimulator.Origin + TimeSpan.FromMilliseconds(phaseMs).Ticks;
            var sim = new PacingSimulator(new SimServer(kind, perWindow, TimeSpan.FromSeconds(20)), SimReset.WholeEpoch, latency);
            var starts = new System.Collections.Generic.List<string>();
            sim.Trace = line => starts.Add(line);
            sim.AddProcess(PacingSimulator.NewPacer(perMinute), new BudgetState(), prompts, inFlight, start);
            sim.Run();
            double rate = (prompts - 1) / Seconds(sim.LastStart - start) / (perMinute / 60.0);
            _out.WriteLine($"{kind} at {phaseMs} ms: last start {Seconds(sim.LastStart - start):0.00} s, {rate:0.00} of the rate, {sim.Rejected} x 429");
            _out.WriteLine(string.Join("; ", starts));
            Assert.Equal(prompts, sim.Answered);
            Assert.InRange(sim.Rejected, 0, 2);
            Assert.InRange(rate, 0.90, 1.0);
        }

        [Fact]
        internal void A_cold_start_bursts_at_most_the_throttle_limit_before_the_first_answer()
        {
            var sim = new PacingSimulator(new SimServer(SimWindow.Sliding, 4, Window), SimReset.Epoch, Latency);
            var state = new BudgetState();
            var trace = new System.Text.StringBuilder();
            sim.Trace = line => trace.Append(line).Append("; ");
            sim.AddProcess(PacingSimulator.NewPacer(null), state, 20, ThrottleLimit, PacingSimulator.Origin);
            sim.Run();
            _out.WriteLine(trace.ToString());
            // With a limit of 4, the 8 sent before any answer cost 4 429s; after the first answers nothing more is refused.
            Assert.Equal(20, sim.Answered);
            Assert.InRange(sim.Rejected, 0, ThrottleLimit - 4);
        }

        [Fact]
        internal void Limits_learned_by_an_earlier_run_pace_from_the_first_request()
        {
            var earlier = new BudgetState();
            Play(SimWindow.Sliding, SimReset.Epoch, null, state: earlier);
            // A later run (a fresh pacer) on the same state, with a server whose window is as full as the earlier run left it.
            long laterStart = Start + TimeSpan.FromMinutes(1).Ticks;
            var later = Play(SimWindow.Fixed, SimReset.Epoch, null, state: earlier, start: laterStart);
            Assert.Equal(0, later.Rejected);
            Assert.InRange(Wall(later, laterStart), 9, 9 * 1.15);
        }
    }
}
