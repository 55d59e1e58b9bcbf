using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using CalStudio.Client;
using CalStudio.Quota;
using Xunit;

namespace CalStudio.Tests
{
    public class PacerTests : IDisposable
    {
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "calstudio-pacer-" + Guid.NewGuid().ToString("N"));
        private string StatePath => Path.Combine(_dir, "k.budget");

        private BudgetState State() => BudgetState.Parse(File.ReadAllText(StatePath));

        [Fact]
        public async Task Requests_per_minute_reserve_evenly_spaced_slots_shared_by_every_pacer_on_the_file()
        {
            // Two pacers on one file stand for two processes using one key; each is told of its answers, as the sender does.
            var a = new RequestPacer(new SharedBudget(StatePath), perMinute: 600, perDay: null);
            var b = new RequestPacer(new SharedBudget(StatePath), perMinute: 600, perDay: null);
            var answer = new ApiOutcome { Kind = OutcomeKind.Success, StatusCode = 200 };
            foreach (var first in new[] { a, b }) { Assert.Null(await first.WaitTurnAsync(CancellationToken.None)); first.Observe(answer); }
            long start = State().NextSlot;
            for (int i = 0; i < 4; i++)
            {
                var pacer = i % 2 == 0 ? b : a;
                Assert.Null(await pacer.WaitTurnAsync(CancellationToken.None));
                pacer.Observe(answer);
            }
            // 100 ms apart at 600/min, plus the 1 % margin that keeps arrival jitter out of a sliding window; a late
            // wake-up may start a slot later, never earlier.
            Assert.InRange(State().NextSlot - start, TimeSpan.FromMilliseconds(4 * 101).Ticks, TimeSpan.FromMilliseconds(4 * 101 + 1000).Ticks);
            Assert.Equal(6, State().DayCount);
        }

        [Fact]
        public async Task With_a_rate_a_process_sends_its_first_request_alone()
        {
            var pacer = new RequestPacer(new SharedBudget(StatePath), perMinute: 6000, perDay: null);
            Assert.Null(await pacer.WaitTurnAsync(CancellationToken.None));
            var second = pacer.WaitTurnAsync(CancellationToken.None);
            await Task.Delay(300);
            Assert.False(second.IsCompleted, "the second request must wait for the first one's answer");
            pacer.Observe(new ApiOutcome { Kind = OutcomeKind.Success, StatusCode = 200 });
            Assert.Null(await second);
        }

        [Fact]
        public async Task The_daily_limit_refuses_without_waiting()
        {
            var pacer = new RequestPacer(new SharedBudget(StatePath), perMinute: null, perDay: 2);
            Assert.Null(await pacer.WaitTurnAsync(CancellationToken.None));
            Assert.Null(await pacer.WaitTurnAsync(CancellationToken.None));
            var denied = await pacer.WaitTurnAsync(CancellationToken.None);
            Assert.Equal(OutcomeKind.QuotaExhausted, denied.Kind);
            Assert.Equal(ErrorIds.DailyQuotaExhausted, denied.ErrorId);
            Assert.True(denied.RetryAfter > TimeSpan.Zero && denied.RetryAfter <= TimeSpan.FromDays(1));
            Assert.Equal(0, pacer.RemainingToday());
        }

        [Fact]
        public void Headers_set_the_window_and_a_429_pauses_every_request()
        {
            var pacer = new RequestPacer(new SharedBudget(StatePath), null, null);
            var reset = DateTimeOffset.UtcNow.AddSeconds(30);
            pacer.Observe(new ApiOutcome { Kind = OutcomeKind.Success, RateLimit = new RateLimitSnapshot { Limit = 60, Remaining = 12, Reset = reset } });
            Assert.Equal(12, State().WindowLeft);
            Assert.Equal(60, pacer.Snapshot().Limit);
            pacer.Observe(new ApiOutcome { Kind = OutcomeKind.Transient, StatusCode = 429, RetryAfter = TimeSpan.FromSeconds(20) });
            Assert.InRange(new DateTimeOffset(State().PauseUntil, TimeSpan.Zero) - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(21));
        }

        [Fact]
        public async Task Daily_quota_headers_do_not_stall_pacing()
        {
            // A window learned first, so the state file exists and a stall would show.
            var pacer = new RequestPacer(new SharedBudget(StatePath), null, null);
            pacer.Observe(new ApiOutcome { Kind = OutcomeKind.Success,
                RateLimit = new RateLimitSnapshot { Limit = 60, Remaining = 30, Reset = DateTimeOffset.UtcNow.AddSeconds(30) } });
            var before = State();
            pacer.Observe(new ApiOutcome { Kind = OutcomeKind.QuotaExhausted, StatusCode = 429,
                RateLimit = new RateLimitSnapshot { Limit = 1000, Remaining = 0, Reset = DateTimeOffset.UtcNow.AddHours(5) } });
            pacer.Observe(new ApiOutcome { Kind = OutcomeKind.Success,
                RateLimit = new RateLimitSnapshot { Limit = 1000, Remaining = 0, Reset = DateTimeOffset.UtcNow.AddHours(5) } });
            var after = State();
            Assert.Equal(before.WindowReset, after.WindowReset);
            Assert.Equal(before.WindowLimit, after.WindowLimit);
            Assert.Equal(0, after.PauseUntil);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            // The refusal marked the day spent (SpentDay): the next turn is refused at once, never a wait for the reset.
            Assert.Equal(ErrorIds.DailyQuotaExhausted, (await pacer.WaitTurnAsync(CancellationToken.None))?.ErrorId);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "a daily quota's reset must not become a wait");
            Assert.Equal(State().DaySpentUntil, after.DaySpentUntil);
            Assert.True(new DateTimeOffset(after.DaySpentUntil, TimeSpan.Zero) > DateTimeOffset.UtcNow.AddHours(4), "until the headers' Reset");
        }

        [Fact]
        public void A_Retry_After_longer_than_the_longest_wait_is_never_stored_as_a_shared_pause()
        {
            var pacer = new RequestPacer(new SharedBudget(StatePath), null, null, maxPause: TimeSpan.FromSeconds(60));
            var s = new BudgetState();
            long now = DateTimeOffset.UtcNow.UtcTicks;
            pacer.Observe(s, new ApiOutcome { Kind = OutcomeKind.Transient, StatusCode = 429, RetryAfter = TimeSpan.FromSeconds(61) }, now, 0);
            Assert.Equal(0, s.PauseUntil);
            pacer.Observe(s, new ApiOutcome { Kind = OutcomeKind.Transient, StatusCode = 429, RetryAfter = TimeSpan.FromSeconds(59) }, now, 0);
            Assert.Equal(now + TimeSpan.FromSeconds(59).Ticks, s.PauseUntil);
        }

        [Fact]
        public void A_stored_pause_beyond_the_longest_wait_is_ignored_not_slept()
        {
            // A state file written by an older version holding a 34-day pause: no run may sleep on it.
            long now = DateTimeOffset.UtcNow.UtcTicks;
            var s = new BudgetState { PauseUntil = now + TimeSpan.FromDays(34).Ticks };
            var pacer = new RequestPacer(new SharedBudget(StatePath), null, null, maxPause: TimeSpan.FromSeconds(300));
            var d = pacer.Decide(s, now);
            Assert.True(d.Reserved);
            Assert.Equal(0, d.Wait);
            Assert.Equal(0, s.PauseUntil);
            // A pause within the limit is still honoured.
            s.PauseUntil = now + TimeSpan.FromSeconds(10).Ticks;
            Assert.Equal(TimeSpan.FromSeconds(10).Ticks, pacer.Decide(s, now).Wait);
        }

        [Fact]
        public void The_allowed_rate_is_the_configured_one_else_the_one_the_headers_show()
        {
            Assert.Null(new RequestPacer(new SharedBudget(StatePath), null, null).AllowedPerSecond);
            Assert.Equal(1.0, new RequestPacer(new SharedBudget(StatePath), 60, null).AllowedPerSecond);
            var learned = new RequestPacer(new SharedBudget(StatePath), null, null);
            long now = DateTimeOffset.UtcNow.UtcTicks;
            learned.Observe(new BudgetState(), new ApiOutcome { Kind = OutcomeKind.Success, RateLimit = new RateLimitSnapshot
                { Limit = 10, Remaining = 9, Reset = new DateTimeOffset(now + TimeSpan.FromSeconds(2).Ticks, TimeSpan.Zero),
                  ObservedAt = new DateTimeOffset(now, TimeSpan.Zero) } }, now, 0);
            Assert.Equal(5.0, learned.AllowedPerSecond.Value, 3);
        }

        [Fact]
        public void State_files_written_before_the_new_fields_still_parse()
        {
            var old = BudgetState.Parse("1 20261127 5 2 10 3 0 4");
            Assert.Equal(10, old.WindowLimit);
            Assert.Equal(4, old.LastStart);
            Assert.Equal(0, old.WindowLength);
            Assert.Equal(old.Serialize(), BudgetState.Parse(old.Serialize()).Serialize());
            var beforeRefill = BudgetState.Parse("1 20261127 5 2 10 3 0 4 30000000 0 7 1 2");
            Assert.Equal(2, beforeRefill.ServerLeft);
            Assert.Equal(0, beforeRefill.RefillTicks);
            Assert.Equal(0, beforeRefill.SpentAt);
        }

        private static ApiOutcome Answer(int remaining, TimeSpan? retryAfter = null)
        {
            var limits = new RateLimitSnapshot { Limit = 10, Remaining = remaining };
            return retryAfter.HasValue
                ? new ApiOutcome { Kind = OutcomeKind.Transient, StatusCode = 429, RetryAfter = retryAfter, RateLimit = limits }
                : new ApiOutcome { Kind = OutcomeKind.Success, StatusCode = 200, RateLimit = limits };
        }

        [Fact]
        public void Without_a_Reset_header_a_bucket_refilling_after_a_429_spaces_the_next_probe_by_its_refill()
        {
            // Pure Decide/Observe on a virtual clock: the window spent, a probe's 429 says "1 s"; the probe after the pause
            // finds only 2 of 10 free (a bucket refilling, not a window that turned).
            var pacer = PacingSimulator.NewPacer(null);
            var s = new BudgetState();
            long t0 = PacingSimulator.Origin, ms = TimeSpan.TicksPerMillisecond;
            pacer.Observe(s, Answer(0), t0, 0);
            long probe = t0 + 10 * ms;
            Assert.True(pacer.Decide(s, probe).Reserved);
            pacer.Observe(s, Answer(0, TimeSpan.FromSeconds(1)), t0 + 50 * ms, 0);
            long afterPause = t0 + 1050 * ms;
            Assert.True(pacer.Decide(s, afterPause).Reserved);
            long probeAnswered = t0 + 1100 * ms;
            pacer.Observe(s, Answer(2), probeAnswered, 0);
            Assert.Equal((probeAnswered - probe) / 2, s.RefillTicks);
            // The two it showed free go at once; their answers show the bucket spent again.
            Assert.True(pacer.Decide(s, probeAnswered).Reserved);
            Assert.True(pacer.Decide(s, probeAnswered).Reserved);
            pacer.Observe(s, Answer(1), probeAnswered + 30 * ms, 1);
            pacer.Observe(s, Answer(0), probeAnswered + 40 * ms, 0);
            long now = probeAnswered + 50 * ms;
            var next = pacer.Decide(s, now);
            Assert.False(next.Reserved);
            Assert.InRange(now + next.Wait, probeAnswered + s.RefillTicks, probeAnswered + s.RefillTicks + 100 * ms);
        }

        public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }
    }
}
