using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using CalStudio.Answers;
using CalStudio.Client;
using CalStudio.Journal;
using CalStudio.Session;

namespace CalStudio.Engine
{
    /// <summary>What the cmdlet does with each finished row, always on the pipeline thread.</summary>
    internal interface IBatchHost
    {
        void WriteAnswer(Response response, RowInput row);
        void WriteRowError(Response failed, ApiOutcome outcome, RowInput row);
        void WriteNote(string message);
        /// <summary>A -Debug line; asked for only when <see cref="TracesRequests"/>.</summary>
        void WriteDebug(string message);
        bool TracesRequests { get; }
        void WriteWarning(string message);
        void WriteProgress(BatchCounters counters, bool completed);
    }

    /// <summary>The batch stopped as a whole: a rejected key, the daily quota spent, or the API unreachable.</summary>
    internal sealed class BatchHaltedException : Exception
    {
        public BatchHaltedException(StopReason reason, ApiOutcome outcome, RowInput row, BatchCounters counters) : base(outcome?.ErrorMessage)
        {
            Reason = reason;
            Outcome = outcome;
            Row = row;
            Counters = counters;
        }

        public StopReason Reason { get; }
        public ApiOutcome Outcome { get; }
        public RowInput Row { get; }
        public BatchCounters Counters { get; }
    }

    /// <summary>
    /// One invocation of Invoke-CalStudioPrompt: checks rows, answers from the journal what it already has, sends the
    /// rest concurrently with retries, and hands every row back in input order. It owns the batch's stop
    /// (<see cref="BatchStop"/>): who stopped it and why, and the grace given to requests in flight.
    /// </summary>
    internal sealed class PromptBatch : IAttemptPolicy, IDisposable
    {

        private readonly CalStudioSession _session;
        private readonly RetryingSender _sender;
        private readonly IInFlightGate _inFlight;
        private readonly BatchStop _stop;
        private readonly ForbiddenGuard _forbidden = new ForbiddenGuard();
        private readonly OutageBreaker _outage = new OutageBreaker();
        private readonly OrderedWindow<RowOutcome> _window;
        private readonly JournalFile _journal;
        private readonly RowKeys _keys;
        private readonly RepeatedRows _repeats;
        private readonly IBatchHost _host;
        private readonly IAnswerStage _answers;
        private readonly Stopwatch _sinceProgress = Stopwatch.StartNew();
        private ApiOutcome _quotaCause;
        private RowInput _quotaRow;
        private ApiOutcome _journalFailure; // the first; it ends the batch whatever else stopped it
        private readonly RowsInHand _rowsInHand = new RowsInHand(); // sent or waiting to be, not yet journaled: a stop waits for them

        /// <param name="throttleLimit">-ThrottleLimit, the ceiling of requests in flight; null: adaptive up to the default ceiling.</param>
        /// <param name="answers">What an answer must be (-ResponseFormat); null: text, as it comes.</param>
        public PromptBatch(CalStudioSession session, RetrySettings retry, int? throttleLimit, JournalFile journal, bool keyed, IBatchHost host,
                           IAnswerStage answers = null)
        {
            _answers = answers ?? TextAnswerStage.Instance;
            _session = session;
            _journal = journal;
            _host = host;
            _keys = new RowKeys(keyed, hashWhenUnkeyed: journal != null);
            _repeats = new RepeatedRows(keyed, journal);
            var inFlight = AdaptiveInFlightGate.ForBatch(throttleLimit, () => session.Pacer.AllowedPerSecond);
            _inFlight = session.LastInFlight = inFlight;
            Counters.InFlightReason = () => inFlight.Reason;
            Counters.PacingReason = PacingSummary.For(session.Pacer);
            _stop = new BatchStop(_rowsInHand, StopKind.Grace.Wait);
            var client = session.Client;
            var key = session.Key;
            _sender = new RetryingSender((request, cancel) => client.SendAsync(request, key, retry.Timeout, cancel), retry, session.Pacer, _inFlight, this);
            // Read-ahead: a row at the head waiting out timeouts and backoffs (seconds) must not idle the other slots,
            // so the window holds about a minute of fast rows; a finished row costs ~1 KB, so memory stays flat and small.
            _window = new OrderedWindow<RowOutcome>(Math.Min(16384, Math.Max(1024, (throttleLimit ?? AdaptiveInFlightGate.UnknownRateLevel) * 64)), TimeSpan.FromMilliseconds(200));
            if (host.TracesRequests) _window.DebugSink = host.WriteDebug;
        }

        public BatchCounters Counters { get; } = new BatchCounters();

        public StopReason StopReason => _stop.Reason;

        /// <summary>Fires for Ctrl+C once the grace is over.</summary>
        public CancellationToken Cancelled => _stop.Cancelled;

        /// <summary>Queues one row; may block while the read-ahead window is full, writing finished rows meanwhile.</summary>
        public void Add(RowInput row)
        {
            Counters.Seen++;
            if (_stop.Reason != StopReason.None)
            {
                Counters.NotSent++;
                if (_stop.Reason == StopReason.KeyRejected) { Pump(); throw Halt(_stop.Cause, row); }
                if (_quotaRow == null) _quotaRow = row;
                return;
            }
            _window.Add(() => Start(row), Deliver, _host.WriteNote, Tick, _stop.Cancelled);
        }

        /// <summary>Waits for and writes every remaining row; throws the quota or outage stop at the end if there was one.</summary>
        public void Complete()
        {
            Pump();
            _session.Pacer.FlushCount();
            _host.WriteProgress(Counters, completed: true);
            _host.WriteNote(Counters.Summary());
            if (_journal != null && _stop.Reason != StopReason.Cancelled) Keep(() => _journal.Sync()); // every stop puts the answers on the disk
            if (Volatile.Read(ref _journalFailure) != null) throw Halt(_journalFailure, _quotaRow, StopReason.JournalWriteFailed);
            if (_stop.Reason == StopReason.QuotaExhausted) throw Halt(_quotaCause ?? _stop.Cause, _quotaRow);
            if (_stop.Reason == StopReason.ApiUnreachable) throw Halt(_stop.Cause, _quotaRow);
            if (_stop.Reason == StopReason.KeyRejected) throw Halt(_stop.Cause, _quotaRow);
        }

        /// <summary>Ctrl+C, on PowerShell's stopping thread: stop, give requests in flight their grace, then cancel the rest.</summary>
        public void Stop() => _stop.Interrupt();

        private void Pump() => _window.Pump(Deliver, _host.WriteNote, Tick, _stop.Cancelled);

        // ---- IAttemptPolicy: called from the senders, inside an in-flight slot ----

        async Task<bool> IAttemptPolicy.MayAttemptAsync(CancellationToken cancel)
        {
            if (_stop.Reason != StopReason.None) return false;
            if (await _forbidden.MayAttemptAsync(cancel).ConfigureAwait(false)) return _stop.Reason == StopReason.None;
            _stop.Request(StopReason.KeyRejected, _forbidden.Verdict());
            return false;
        }

        void IAttemptPolicy.AttemptEnded(ApiOutcome outcome)
        {
            _forbidden.AttemptEnded(outcome);
            if (outcome != null) StopAfter(outcome);
        }

        /// <summary>A rejected key or a spent quota stops the batch: queued rows are not spent on certain refusals.</summary>
        private void StopAfter(ApiOutcome outcome)
        {
            if (outcome.Kind == OutcomeKind.KeyRejected) _stop.Request(StopReason.KeyRejected, outcome);
            else if (outcome.Kind == OutcomeKind.QuotaExhausted) _stop.Request(StopReason.QuotaExhausted, outcome);
        }

        // ---- per row ----

        private Task<RowOutcome> Start(RowInput row)
        {
            var keyRefused = _keys.Check(row, out bool repeat);
            var repeated = repeat ? _repeats.Follow(row) : null;
            if (repeated != null) return repeated;
            var started = StartFirst(row, keyRefused);
            if (keyRefused == null) _repeats.First(row, started);
            return started;
        }

        private Task<RowOutcome> StartFirst(RowInput row, ApiOutcome keyRefused)
        {
            var refused = keyRefused ?? row.Validate();
            if (refused != null)
            {
                var failed = RowOutcome.Ended(row, refused, attempts: 0, TimeSpan.Zero, _keys.DisplayKey(row));
                // Journaled, so -Failed lists it; a rerun tries it again, since its input may have been fixed meanwhile.
                if (_journal != null && _keys.IsJournalable(refused)) Keep(() => _journal.Append(failed.Response, row.Fingerprint));
                return Task.FromResult(failed);
            }
            if (_journal != null)
            {
                var match = _journal.Lookup(row.RowKey, row.Fingerprint, out Response earlier);
                var reused = match == JournalMatch.Answered ? _answers.Reuse(earlier) : null;
                if (reused != null) return Task.FromResult(RowOutcome.FromJournal(row, reused));
                if (match == JournalMatch.Answered) Counters.Rejudged++; // the current schema rejects the journaled answer
                if (match == JournalMatch.Superseded) Counters.Superseded++;
            }
            // Off the pipeline thread at once: building the body and HttpClient's synchronous part of a send would
            // otherwise run there, one row at a time, and cap the requests in flight at zero latency.
            _rowsInHand.Enter();
            return Task.Run(async () =>
            {
                try { return await SendAsync(row).ConfigureAwait(false); }
                finally { _rowsInHand.Exit(); } // after the journal has the answer: only then may a stop close it
            });
        }

        private async Task<RowOutcome> SendAsync(RowInput row)
        {
            var request = new PromptRequest(row.Prompt, row.AppName, row.FileUrl);
            RowOutcome result;
            try
            {
                string label = RowLabel.Of(row.Number, row.KeyValue);
                Action<AttemptTrace> trace = null;
                if (_window.DebugSink != null)
                    trace = t => _window.DebugNote(t.Describe(label, row.Prompt, Pacing()));
                // The answer stage sends the prompt, and any re-asks, through the same sender: paced, budgeted, stoppable.
                // A re-ask (every send after the first) is a follow-up: it goes ahead of rows not yet sent.
                int sends = 0;
                var staged = await _answers.SendAsync(request, r => _sender.SendAsync(r, _stop.NoNewAttempts, _stop.Abort,
                    note => _window.Note(label + ": " + note), trace, followUp: sends++ > 0)).ConfigureAwait(false);
                var sent = staged.Sent;
                if (sent.NotSent) return RowOutcome.NotSent(row);
                result = RowOutcome.Ended(row, sent.Outcome, sent.Attempts, sent.Duration, _keys.DisplayKey(row));
                staged.ApplyTo(result.Response);
            }
            catch (OperationCanceledException)
            {
                return RowOutcome.NotSent(row);
            }
            catch (Exception ex)
            {
                // A bug of ours must cost one row, not the batch or the process.
                result = RowOutcome.Ended(row, ApiOutcome.Failure(ErrorIds.Unexpected, 0,
                    "Unexpected " + ex.GetType().Name + " while sending: " + ex.Message, cause: ex), 1, TimeSpan.Zero, _keys.DisplayKey(row));
            }

            StopAfter(result.Outcome); // also for the pacer's own daily refusal, which is not an attempt
            if (_outage.RowEnded(result.Outcome)) _stop.Request(StopReason.ApiUnreachable, _outage.Verdict());

            // Journal as soon as the row is finished, not when it is written: an interrupted run keeps every answer it paid for.
            if (_journal != null && result.IsFinal) Keep(() => _journal.Append(result.Response, row.Fingerprint));
            return result;
        }

        /// <summary>
        /// A journal that cannot be written stops the batch at once: no new request, the answers in hand still written to the
        /// pipeline, the requests on the wire awaited as at a quota stop; the batch then ends with JournalWriteFailed.
        /// </summary>
        private void Keep(Action journalWrite)
        {
            try { journalWrite(); }
            catch (JournalException ex)
            {
                var failure = ApiOutcome.Failure(ErrorIds.JournalWriteFailed, 0, ex.Message, cause: ex);
                Interlocked.CompareExchange(ref _journalFailure, failure, null);
                _stop.Request(StopReason.JournalWriteFailed, failure);
            }
        }

        private string Pacing()
        {
            double? perSecond = _session.Pacer.AllowedPerSecond;
            return perSecond.HasValue ? string.Format(System.Globalization.CultureInfo.InvariantCulture, "pacing to {0:0.00} requests/s", perSecond.Value) : null;
        }

        private void Deliver(RowOutcome result)
        {
            // The state file may have become unusable mid-batch: say so once, on the pipeline thread.
            if (_session.Pacer.TryTakeWarning(out string warning)) _host.WriteWarning(warning);
            _repeats.Delivered(result);
            var outcome = result.Outcome;
            if (result.IsNotSent || outcome?.Kind == OutcomeKind.QuotaExhausted)
            {
                Counters.NotSent++;
                if (_stop.Reason == StopReason.KeyRejected) throw Halt(_stop.Cause, result.Row);
                if (outcome != null && (_quotaCause == null || (_quotaCause.StatusCode == 0 && outcome.StatusCode != 0)))
                    _quotaCause = outcome; // the first refusal the API explained is the one to report
                if (_quotaRow == null) _quotaRow = result.Row;
                return;
            }
            if (outcome?.Kind == OutcomeKind.KeyRejected) throw Halt(outcome, result.Row);

            if (!result.IsRepeat) // a repeat's attempts are its first row's
            {
                Counters.Retries += Math.Max(0, result.Response.Attempts - 1 - result.Response.Reasks);
                if (!result.Response.FromJournal) Counters.Reasks += result.Response.Reasks;
            }
            if (result.Response.FromJournal) Counters.FromJournal++;
            else _session.History.Add(ForHistory(result.Response));
            if (result.Response.Success)
            {
                Counters.Succeeded++;
                _host.WriteAnswer(result.Response, result.Row);
            }
            else
            {
                Counters.Failed++;
                _host.WriteRowError(result.Response, outcome, result.Row);
            }
            Tick();
        }

        /// <summary>
        /// A copy without the answer's cells: PowerShell keys an emitted object's note properties and type names by its
        /// base object, so a history holding that very Response kept each output's columns alive for -HistorySize rows
        /// (and showed them again in Get-CalStudioResponse, whose objects hold no input columns).
        /// </summary>
        private static Response ForHistory(Response response)
        {
            var kept = response.Clone();
            kept.AnswerFields = null;
            return kept;
        }

        /// <summary>The whole batch ends here: requests in flight first get their stop's wait, so answers already paid for are journaled.</summary>
        private BatchHaltedException Halt(ApiOutcome cause, RowInput row, StopReason? reason = null)
        {
            _stop.WaitForGrace(_stop.Cancelled);
            return new BatchHaltedException(reason ?? _stop.Reason, cause ?? _stop.Cause, row, Counters);
        }

        private void Tick()
        {
            if (_sinceProgress.ElapsedMilliseconds < 250) return;
            _sinceProgress.Restart();
            _host.WriteProgress(Counters, completed: false);
        }

        public void Dispose()
        {
            try { _session.Pacer.FlushCount(); } catch (Exception) { } // a stopped batch's requests count today too; never fail a dispose
            _stop.Dispose();
            _window.Dispose();
        }
    }
}
