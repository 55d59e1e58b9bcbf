using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using CalStudio.Client;
using CalStudio.Engine;
using CalStudio.Quota;
using Xunit;

namespace CalStudio.Tests
{
    /// <summary>Issue 20: what each stop does with the wire, the outage breaker, and the spent day in the shared state.</summary>
    public class StopsTests : IDisposable
    {
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "calstudio-stops-" + Guid.NewGuid().ToString("N"));
        private string StatePath => Path.Combine(_dir, "k.budget");

        private static ApiOutcome Answer(int status, string id = null) =>
            status == 200 ? new ApiOutcome { Kind = OutcomeKind.Success, StatusCode = 200, Message = "ok" } : ApiOutcome.Failure(id ?? ErrorIds.ForStatus(status, null), status, "HTTP " + status);

        [Fact]
        public void Each_reason_has_its_treatment_of_the_wire()
        {
            Assert.Same(StopKind.Drain, StopKind.Of(StopReason.QuotaExhausted));
            Assert.Same(StopKind.Drain, StopKind.Of(StopReason.ApiUnreachable));
            Assert.Same(StopKind.Grace, StopKind.Of(StopReason.Cancelled));
            Assert.Same(StopKind.Drain, StopKind.Of(StopReason.JournalWriteFailed));
            Assert.Same(StopKind.Grace, StopKind.Of(StopReason.KeyRejected)); // an answer given before the key went bad is kept
            Assert.Equal(TimeSpan.FromMilliseconds(800), StopKind.Grace.Wait);
        }

        [Fact]
        public void A_quota_stop_waits_for_the_wire_however_long_and_Ctrl_C_cuts_it_to_the_grace()
        {
            var gate = new FixedInFlightGate(2);
            gate.EnterAsync(CancellationToken.None).Wait();
            var stop = new BatchStop(gate, TimeSpan.FromMilliseconds(1));
            Assert.True(stop.Request(StopReason.QuotaExhausted, Answer(429, ErrorIds.DailyQuotaExhausted)));
            // The grace (1 ms here) does not apply to a drain: the request on the wire is still not aborted.
            Assert.False(SpinWait.SpinUntil(() => stop.Abort.IsCancellationRequested, 300));
            stop.Interrupt(); // Ctrl+C during the drain
            Assert.True(stop.Abort.IsCancellationRequested);
            Assert.True(stop.Cancelled.IsCancellationRequested);
            Assert.Equal(StopReason.QuotaExhausted, stop.Reason); // the first reason still says why the batch stopped
        }

        [Fact]
        public void Ctrl_Cs_grace_lasts_until_the_rows_in_hand_are_journaled_not_only_until_the_wire_is_free()
        {
            // The slot is free once the answer is in; the row is kept a moment later, when the journal has it. The journal
            // closes when the grace is over, so the grace must wait for the row (a loaded machine stretches that moment).
            var rows = new RowsInHand();
            rows.Enter();
            var stop = new BatchStop(rows, TimeSpan.FromMinutes(5));
            stop.Request(StopReason.Cancelled, null);
            Assert.False(SpinWait.SpinUntil(() => stop.Abort.IsCancellationRequested, 200));
            rows.Exit(); // journaled
            stop.WaitForGrace(CancellationToken.None);
            Assert.True(stop.Abort.IsCancellationRequested);
            Assert.True(stop.Cancelled.IsCancellationRequested);
            Assert.Equal(0, rows.Count);
        }

        [Fact]
        public void A_rejected_key_aborts_the_wire_at_once()
        {
            var gate = new FixedInFlightGate(1);
            gate.EnterAsync(CancellationToken.None).Wait();
            var stop = new BatchStop(gate, TimeSpan.FromMinutes(5));
            stop.Request(StopReason.KeyRejected, Answer(401));
            stop.WaitForGrace(CancellationToken.None);
            Assert.True(stop.Abort.IsCancellationRequested);
            Assert.False(stop.Cancelled.IsCancellationRequested);
        }

        [Fact]
        public void Eight_outage_rows_in_a_row_stop_the_batch_and_any_answer_below_500_starts_the_count_afresh()
        {
            var breaker = new OutageBreaker();
            var refused = ApiOutcome.Failure(ErrorIds.ConnectionFailed, 0, "The connection to the API failed: Connection refused");
            for (int i = 0; i < OutageBreaker.Threshold - 1; i++) Assert.False(breaker.RowEnded(i % 2 == 0 ? refused : Answer(503)));
            Assert.False(breaker.RowEnded(Answer(404))); // the API answered: it is reachable
            Assert.False(breaker.RowEnded(RowInput.Invalid(ErrorIds.InvalidPrompt, "local"))); // never sent: says nothing
            for (int i = 0; i < OutageBreaker.Threshold - 1; i++) Assert.False(breaker.RowEnded(refused));
            Assert.True(breaker.RowEnded(ApiOutcome.Failure(ErrorIds.Timeout, 0, "No answer")));
            var verdict = breaker.Verdict();
            Assert.Equal(ErrorIds.ApiUnreachable, verdict.ErrorId);
            Assert.Contains("8 rows in a row", verdict.ErrorMessage);
            Assert.Contains(ErrorIds.Timeout, verdict.ErrorMessage);
        }

        [Fact]
        public async Task The_APIs_daily_refusal_is_remembered_by_another_pacer_until_its_Retry_After()
        {
            var first = new RequestPacer(new SharedBudget(StatePath), null, null);
            await first.ObserveAsync(ApiOutcome.Failure(ErrorIds.DailyQuotaExhausted, 429, "Daily quota exceeded.")
                .WithHeaders(null, null, TimeSpan.FromHours(3)), 0, CancellationToken.None);
            var state = BudgetState.Parse(File.ReadAllText(StatePath));
            Assert.InRange(new DateTimeOffset(state.DaySpentUntil, TimeSpan.Zero), DateTimeOffset.UtcNow.AddHours(2.9), DateTimeOffset.UtcNow.AddHours(3.1));

            var second = new RequestPacer(new SharedBudget(StatePath), null, null); // another process, unpaced
            second.CheckStateFile();
            var refusal = await second.WaitTurnAsync(CancellationToken.None);
            Assert.Equal(ErrorIds.DailyQuotaExhausted, refusal.ErrorId);
            Assert.Equal(0, refusal.StatusCode); // not sent
            Assert.InRange(refusal.RetryAfter.Value, TimeSpan.FromHours(2.9), TimeSpan.FromHours(3.1));
            Assert.NotNull(second.Snapshot().DailyQuotaSpentUntil);

            var paced = new RequestPacer(new SharedBudget(StatePath), 600, null); // a paced one reads it at its turn
            Assert.Equal(ErrorIds.DailyQuotaExhausted, (await paced.WaitTurnAsync(CancellationToken.None)).ErrorId);
        }

        [Fact]
        public async Task A_past_mark_is_no_mark_and_a_success_clears_one()
        {
            Directory.CreateDirectory(_dir);
            File.WriteAllText(StatePath, new BudgetState { DaySpentUntil = DateTimeOffset.UtcNow.AddMinutes(-1).UtcTicks }.Serialize());
            var pacer = new RequestPacer(new SharedBudget(StatePath), 600, null);
            Assert.Null(pacer.Snapshot().DailyQuotaSpentUntil);
            Assert.Null(await pacer.WaitTurnAsync(CancellationToken.None));
            Assert.Equal(0, BudgetState.Parse(File.ReadAllText(StatePath)).DaySpentUntil);

            var other = new RequestPacer(new SharedBudget(StatePath + "2"), null, null);
            File.WriteAllText(StatePath + "2", new BudgetState { DaySpentUntil = DateTimeOffset.UtcNow.AddHours(1).UtcTicks }.Serialize());
            await other.ObserveAsync(Answer(200), 0, CancellationToken.None); // a process that never saw the mark got an answer
            Assert.Equal(0, BudgetState.Parse(File.ReadAllText(StatePath + "2")).DaySpentUntil);
        }

        [Fact]
        public void A_state_file_without_the_field_reads_as_not_spent()
        {
            var old = BudgetState.Parse("1 20261127 5 2 10 3 0 4 30000000 0 7 1 2 0 0 0");
            Assert.Equal(0, old.DaySpentUntil);
            Assert.Equal(5, old.DayCount);
        }

        public void Dispose()
        {
            try { Directory.Delete(_dir, true); } catch (IOException) { }
        }
    }
}
