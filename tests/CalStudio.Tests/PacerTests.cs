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
            // Two pacers on one file stand for two processes using one key.
            var a = new RequestPacer(new SharedBudget(StatePath), perMinute: 600, perDay: null);
            var b = new RequestPacer(new SharedBudget(StatePath), perMinute: 600, perDay: null);
            await a.WaitTurnAsync(CancellationToken.None);
            long first = State().NextSlot;
            for (int i = 0; i < 4; i++) await (i % 2 == 0 ? b : a).WaitTurnAsync(CancellationToken.None);
            Assert.Equal(TimeSpan.FromMilliseconds(400).Ticks, State().NextSlot - first);
            Assert.Equal(5, State().DayCount);
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
        public void Daily_quota_headers_do_not_stall_pacing()
        {
            var pacer = new RequestPacer(new SharedBudget(StatePath), null, null);
            pacer.Observe(new ApiOutcome { Kind = OutcomeKind.QuotaExhausted, StatusCode = 429,
                RateLimit = new RateLimitSnapshot { Limit = 1000, Remaining = 0, Reset = DateTimeOffset.UtcNow.AddHours(5) } });
            pacer.Observe(new ApiOutcome { Kind = OutcomeKind.Success,
                RateLimit = new RateLimitSnapshot { Limit = 1000, Remaining = 0, Reset = DateTimeOffset.UtcNow.AddHours(5) } });
            Assert.True(!File.Exists(StatePath) || State().WindowLeft == 0 && State().WindowReset == 0);
        }

        public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }
    }
}
