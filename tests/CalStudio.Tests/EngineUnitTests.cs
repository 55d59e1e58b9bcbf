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
    /// <summary>The engine's decisions, without a runspace, a server or a clock.</summary>
    public class EngineUnitTests
    {
        private static ApiOutcome Answer(int status, string id = null) =>
            status == 200 ? new ApiOutcome { Kind = OutcomeKind.Success, StatusCode = 200, Message = "ok" } : ApiOutcome.Failure(id ?? ErrorIds.ForStatus(status, null), status, "HTTP " + status);

        [Theory]
        [InlineData(2, 0.0, 500, 500)]     // base 1 s: half fixed, half random
        [InlineData(2, 1.0, 1000, 1000)]
        [InlineData(3, 0.0, 1000, 1000)]   // doubles per attempt
        [InlineData(4, 0.5, 3000, 3000)]
        [InlineData(20, 1.0, 60000, 60000)] // capped at MaxDelay
        public void DelayBefore_backs_off_exponentially_with_jitter_under_the_cap(int attempt, double random, double minMs, double maxMs)
        {
            var d = RetryingSender.DelayBefore(new RetrySettings(), attempt, null, random);
            Assert.InRange(d.TotalMilliseconds, minMs, maxMs);
        }

        [Fact]
        public void DelayBefore_honours_a_longer_Retry_After_and_keeps_the_backoff_when_it_is_shorter()
        {
            var settings = new RetrySettings();
            Assert.InRange(RetryingSender.DelayBefore(settings, 2, TimeSpan.FromSeconds(7), 0).TotalMilliseconds, 7000, 7000);
            Assert.InRange(RetryingSender.DelayBefore(settings, 2, TimeSpan.FromSeconds(7), 1).TotalMilliseconds, 7250, 7250);
            Assert.InRange(RetryingSender.DelayBefore(settings, 5, TimeSpan.FromMilliseconds(10), 0).TotalMilliseconds, 4000, 4000);
        }

        [Fact]
        public async Task A_key_refused_with_403_for_everything_gets_at_most_20_attempts()
        {
            var guard = new ForbiddenGuard(() => TimeSpan.Zero); // a clock that stands still: no slow-app patience runs out
            int allowed = 0;
            for (int i = 0; i < ForbiddenGuard.Limit; i++) { Assert.True(await guard.MayAttemptAsync(CancellationToken.None)); allowed++; }
            // The 21st waits for the verdict of the 20 in flight...
            var next = guard.MayAttemptAsync(CancellationToken.None);
            Assert.False(next.IsCompleted);
            for (int i = 0; i < ForbiddenGuard.Limit; i++) guard.AttemptEnded(Answer(403));
            // ...which is: every one refused.
            Assert.False(await next);
            Assert.Equal(ErrorIds.KeyRejected, guard.Verdict().ErrorId);
            Assert.Contains("first 20 requests", guard.Verdict().ErrorMessage);
            Assert.Equal(20, allowed);
        }

        [Fact]
        public async Task A_slow_app_whose_first_attempts_have_no_answer_yet_is_not_held_to_20()
        {
            var now = TimeSpan.Zero;
            var guard = new ForbiddenGuard(() => now);
            for (int i = 0; i < ForbiddenGuard.Limit; i++) Assert.True(await guard.MayAttemptAsync(CancellationToken.None));
            now = ForbiddenGuard.SlowAppPatience; // no answer at all yet: a slow app, not a refused key
            Assert.True(await guard.MayAttemptAsync(CancellationToken.None));
            for (int i = 0; i < 100; i++) Assert.True(await guard.MayAttemptAsync(CancellationToken.None));
        }

        [Fact]
        public async Task A_403_among_the_first_answers_keeps_the_guard_however_long_the_rest_take()
        {
            var now = TimeSpan.Zero;
            var guard = new ForbiddenGuard(() => now);
            for (int i = 0; i < ForbiddenGuard.Limit; i++) await guard.MayAttemptAsync(CancellationToken.None);
            guard.AttemptEnded(Answer(403));
            now = TimeSpan.FromSeconds(30);
            var next = guard.MayAttemptAsync(CancellationToken.None);
            await Task.Delay(300); // past the guard's re-check
            Assert.False(next.IsCompleted);
            for (int i = 1; i < ForbiddenGuard.Limit; i++) guard.AttemptEnded(Answer(403));
            Assert.False(await next);
        }

        [Fact]
        public async Task One_answer_that_shows_the_key_works_lets_403s_be_row_failures()
        {
            var guard = new ForbiddenGuard();
            for (int i = 0; i < ForbiddenGuard.Limit; i++) await guard.MayAttemptAsync(CancellationToken.None);
            var next = guard.MayAttemptAsync(CancellationToken.None);
            guard.AttemptEnded(Answer(403));
            guard.AttemptEnded(Answer(404)); // the API looked for the app: it accepted the key
            Assert.True(await next);
            for (int i = 0; i < 100; i++) { Assert.True(await guard.MayAttemptAsync(CancellationToken.None)); guard.AttemptEnded(Answer(403)); }
        }

        [Fact]
        public async Task Server_failures_without_403_do_not_stop_the_batch()
        {
            var guard = new ForbiddenGuard();
            for (int round = 0; round < 3; round++)
            {
                for (int i = 0; i < ForbiddenGuard.Limit; i++) { Assert.True(await guard.MayAttemptAsync(CancellationToken.None)); guard.AttemptEnded(Answer(503)); }
            }
            Assert.True(await guard.MayAttemptAsync(CancellationToken.None));
        }

        [Fact]
        public async Task A_stop_refuses_new_attempts_at_once_and_aborts_after_the_requests_in_flight_finish()
        {
            var gate = new FixedInFlightGate(2);
            var stop = new BatchStop(gate, TimeSpan.FromMinutes(5)); // a grace that never runs out here: only idleness ends it
            await gate.EnterAsync(CancellationToken.None);
            Assert.True(stop.Request(StopReason.QuotaExhausted, Answer(429, ErrorIds.DailyQuotaExhausted)));
            Assert.False(stop.Request(StopReason.Cancelled, null)); // the first reason wins
            Assert.Equal(StopReason.QuotaExhausted, stop.Reason);
            Assert.Equal(429, stop.Cause.StatusCode);
            Assert.True(stop.NoNewAttempts.IsCancellationRequested);
            Assert.False(stop.Abort.IsCancellationRequested);
            Assert.False(stop.Cancelled.IsCancellationRequested);
            gate.Exit(new AttemptReport(null, TimeSpan.Zero)); // the answer in flight arrives
            stop.WaitForGrace(CancellationToken.None);
            Assert.True(stop.Abort.IsCancellationRequested);
            Assert.False(stop.Cancelled.IsCancellationRequested); // only Ctrl+C stops the pipeline thread's waits
        }

        [Fact]
        public void Ctrl_C_aborts_what_is_still_in_flight_when_the_grace_runs_out()
        {
            var gate = new FixedInFlightGate(1);
            gate.EnterAsync(CancellationToken.None).Wait();
            var stop = new BatchStop(gate, TimeSpan.FromMilliseconds(1));
            stop.Request(StopReason.Cancelled, null);
            stop.WaitForGrace(CancellationToken.None);
            Assert.True(stop.Abort.IsCancellationRequested);
            Assert.True(stop.Cancelled.IsCancellationRequested);
            Assert.Equal(1, gate.InFlight);
        }

        [Fact]
        public void Row_keys_must_be_present_and_unique_when_keyed()
        {
            var keys = new RowKeys(keyed: true, hashWhenUnkeyed: true);
            RowInput Row(string key, string prompt = "p") => new RowInput(0, null, prompt, "app", null, key);
            Assert.Null(keys.Check(Row("1")));
            Assert.Equal(ErrorIds.DuplicateRowKey, keys.Check(Row("1", "another question")).ErrorId);
            Assert.Equal(ErrorIds.EmptyRowKey, keys.Check(Row(" ")).ErrorId);
            Assert.Equal(ErrorIds.EmptyRowKey, keys.Check(Row(null)).ErrorId);
            Assert.False(keys.IsJournalable(keys.Check(Row("1", "another question"))));
            Assert.Null(new RowKeys(keyed: false, hashWhenUnkeyed: false).Check(Row(null)));
        }

        [Fact]
        public void The_resume_command_holds_only_the_cmdlets_own_parameters_quoted()
        {
            var bound = new Dictionary<string, object>
            {
                ["JournalPath"] = "C:\\jobs\\it's.jsonl",
                ["KeyProperty"] = "Id",
                ["ThrottleLimit"] = 8,
                ["Verbose"] = new System.Management.Automation.SwitchParameter(true),
                ["Secret"] = "not ours",
                ["InputObject"] = new object(),
            };
            string resume = BatchTexts.ResumeCommand("Invoke-CalStudioPrompt", bound, new[] { "JournalPath", "KeyProperty", "ThrottleLimit", "InputObject" }, hasJournal: true);
            Assert.Equal("<the same input> | Invoke-CalStudioPrompt -JournalPath 'C:\\jobs\\it''s.jsonl' -KeyProperty 'Id' -ThrottleLimit 8", resume);
            Assert.Contains("add -JournalPath", BatchTexts.ResumeCommand("Invoke-CalStudioPrompt", new Dictionary<string, object>(), new string[0], hasJournal: false));
        }

        [Fact]
        public void The_quota_halt_counts_rows_and_says_when_and_how_to_resume()
        {
            var c = new BatchCounters { Succeeded = 30, Failed = 2, NotSent = 18 };
            var cause = ApiOutcome.Failure(ErrorIds.DailyQuotaExhausted, 429, "Daily quota exceeded.").WithHeaders(null, null, TimeSpan.FromHours(2));
            string text = BatchTexts.QuotaExhausted(c, cause, new DateTimeOffset(2026, 11, 27, 22, 0, 0, TimeSpan.Zero), "<resume>");
            // In local time with its offset, whatever zone the tests run in.
            string reset = new DateTimeOffset(2026, 11, 28, 0, 0, 0, TimeSpan.Zero).ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss zzz", System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal("The daily quota is spent: 32 rows done (30 answered, 2 failed), 18 rows not sent. The quota resets at " + reset + ". " +
                         "Daily quota exceeded. To resume, run: <resume>", text);
        }

        [Fact]
        public void Progress_gives_counts_rate_and_an_eta_only_with_a_total()
        {
            var c = new BatchCounters { Succeeded = 5, Failed = 1 };
            Assert.StartsWith("5 done, 1 failed, ", BatchTexts.Progress(c));
            Assert.False(BatchTexts.TryEta(c, out _, out _));
            c.Total = 12;
            Assert.True(BatchTexts.TryEta(c, out int percent, out _));
            Assert.Equal(50, percent);
        }

        [Theory]
        [InlineData(0.25, "0.25")]
        [InlineData(3.5, "3.5")]
        [InlineData(59.6, "60")]
        public void A_short_batch_rate_keeps_its_precision(double perMinute, string shown) => Assert.Equal(shown, BatchCounters.Rate(perMinute));

        [Fact]
        public void WhatIf_counts_only_what_would_be_sent()
        {
            string text = BatchTexts.WhatIf(seen: 10, toSend: 6, fromJournal: 3, refused: 1, hasJournal: true, leftToday: 100, perMinute: 60, DateTimeOffset.UtcNow);
            Assert.Equal("Send 6 of 10 prompts to CalStudio (3 already answered in the journal; 1 refused before sending (no prompt, bad key or URL)); " +
                         "that uses 6 of today's 100 remaining requests; about 1 min at 60 requests/minute", text);
        }

        [Fact]
        public void WhatIf_says_how_many_fit_before_the_reset_and_how_many_wait_for_it_in_local_time()
        {
            var reset = new DateTimeOffset(2026, 12, 4, 0, 0, 0, TimeSpan.Zero);
            string text = BatchTexts.WhatIf(seen: 50, toSend: 50, fromJournal: 0, refused: 0, hasJournal: false, leftToday: 30, perMinute: null, reset);
            string local = reset.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss zzz", System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal("Send 50 of 50 prompts to CalStudio; 30 fit in today's remaining 30, 20 wait for the reset at " + local, text);
        }

        [Fact]
        public void A_run_that_sent_nothing_says_so_instead_of_a_rate()
        {
            var c = new BatchCounters { Succeeded = 297, FromJournal = 297 };
            Assert.Contains("s elapsed, nothing sent.", c.Summary());
            Assert.DoesNotContain("prompts/min", c.Summary());
            c.Succeeded++;
            Assert.Contains(" prompts/min", c.Summary());
        }

        [Fact]
        public void A_changed_outcome_is_a_new_value()
        {
            var first = ApiOutcome.Failure(ErrorIds.RateLimited, 429, "slow down").WithHeaders("req-1", null, TimeSpan.FromHours(3));
            var spent = first.As(ErrorIds.DailyQuotaExhausted, "spent");
            Assert.Equal(ErrorIds.RateLimited, first.ErrorId);
            Assert.Equal(OutcomeKind.Transient, first.Kind);
            Assert.Equal(OutcomeKind.QuotaExhausted, spent.Kind);
            Assert.Equal("req-1", spent.RequestId);
            Assert.Equal(TimeSpan.FromHours(3), spent.RetryAfter);
            Assert.DoesNotContain(typeof(ApiOutcome).GetProperties(), p => p.SetMethod != null && p.SetMethod.IsPublic &&
                !p.SetMethod.ReturnParameter.GetRequiredCustomModifiers().Any(m => m.Name == "IsExternalInit"));
        }

        private sealed class SlowTurnPacer : IPacer
        {
            public Task<ApiOutcome> WaitTurnAsync(CancellationToken cancel) => Task.Delay(TimeSpan.FromSeconds(1), cancel).ContinueWith(_ => (ApiOutcome)null);
            public Task<ApiOutcome> ObserveAsync(ApiOutcome outcome, int besideOnWire, CancellationToken cancel) => Task.FromResult(outcome);
            public void TurnAbandoned() { }
        }

        private sealed class AlwaysAttempt : IAttemptPolicy
        {
            public Task<bool> MayAttemptAsync(CancellationToken cancel) => Task.FromResult(true);
            public void AttemptEnded(ApiOutcome outcome) { }
        }

        [Fact]
        public async Task Duration_runs_from_the_first_send_not_from_the_queue()
        {
            // A second of waiting for the pacing turn, then an instant answer: the row's Duration is the answer's time only.
            var sender = new RetryingSender((request, cancel) => Task.FromResult(Answer(200)), new RetrySettings(), new SlowTurnPacer(),
                                            new FixedInFlightGate(1), new AlwaysAttempt());
            var result = await sender.SendAsync(new PromptRequest("p", "app", null), CancellationToken.None, CancellationToken.None, null);
            Assert.True(result.Outcome.IsSuccess);
            Assert.Equal(1, result.Attempts);
            Assert.True(result.Duration < TimeSpan.FromSeconds(1), "Duration " + result.Duration + " includes the pacer's wait");
        }
    }
}
