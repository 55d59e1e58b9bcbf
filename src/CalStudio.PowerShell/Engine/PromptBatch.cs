using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
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
        void WriteProgress(BatchCounters counters, bool completed);
    }

    /// <summary>Running totals of a batch, for progress and the closing summary.</summary>
    internal sealed class BatchCounters
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        public long Seen;
        public long Succeeded;
        public long Failed;
        public long FromJournal;
        public long Retries;
        public long NotSent;
        public long? Total;
        public TimeSpan Elapsed => _clock.Elapsed;
        public long Done => Succeeded + Failed;

        /// <summary>The in-flight level and why, for the summary.</summary>
        public Func<string> InFlightReason;

        public double PerMinute => Elapsed.TotalSeconds < 0.5 ? 0 : (Done - FromJournal) / Elapsed.TotalMinutes;

        public string Summary() =>
            string.Format(System.Globalization.CultureInfo.InvariantCulture,
                "CalStudio batch: {0} succeeded ({1} from the journal), {2} failed, {3} retries, {4} not sent; {5:0.0} s elapsed, {6:0} prompts/min{7}.",
                Succeeded, FromJournal, Failed, Retries, NotSent, Elapsed.TotalSeconds, PerMinute,
                InFlightReason == null ? "" : "; " + InFlightReason());
    }

    /// <summary>The batch stopped as a whole: a rejected key, or the daily quota spent.</summary>
    internal sealed class BatchHaltedException : Exception
    {
        public BatchHaltedException(ApiOutcome outcome, RowInput row) : base(outcome.ErrorMessage) { Outcome = outcome; Row = row; }
        public ApiOutcome Outcome { get; }
        public RowInput Row { get; }
    }

    /// <summary>
    /// One invocation of Invoke-CalStudioPrompt: validates rows, answers from the journal what it already has,
    /// sends the rest concurrently with retries, and hands every row back in input order.
    /// </summary>
    internal sealed class PromptBatch : IDisposable
    {
        private readonly CalStudioSession _session;
        private readonly RetryingSender _sender;
        private readonly IInFlightGate _inFlight;
        private readonly OrderedWindow<RowOutcome> _window;
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly JournalFile _journal;
        private readonly IBatchHost _host;
        private readonly Stopwatch _sinceProgress = Stopwatch.StartNew();
        private readonly int _throttleLimit;
        // Ctrl+C must return within 2 s; most of that may go to letting answers already on their way arrive.
        private static readonly TimeSpan StopGrace = TimeSpan.FromMilliseconds(800);
        // Set by the first attempt that meets a rejected key or a spent quota: queued rows are not spent on certain refusals.
        private volatile ApiOutcome _stopSending;

        /// <param name="throttleLimit">-ThrottleLimit, the ceiling of requests in flight; null: adaptive up to the default ceiling.</param>
        public PromptBatch(CalStudioSession session, RetrySettings retry, int? throttleLimit, JournalFile journal, IBatchHost host)
        {
            _session = session;
            _journal = journal;
            _host = host;
            _throttleLimit = throttleLimit ?? AdaptiveInFlightGate.UnknownRateLevel;
            var inFlight = AdaptiveInFlightGate.ForBatch(throttleLimit, () => session.Pacer.AllowedPerSecond);
            _inFlight = session.LastInFlight = inFlight;
            Counters.InFlightReason = () => inFlight.Reason;
            _sender = new RetryingSender(session.Client, session.Key, retry, session.Pacer, _inFlight, () => _stopSending, StopSendingAfter);
            // Read-ahead: a row at the head waiting out timeouts and backoffs (seconds) must not idle the other slots,
            // so the window holds about a minute of fast rows; a finished row costs ~1 KB, so memory stays flat and small.
            _window = new OrderedWindow<RowOutcome>(Math.Min(16384, Math.Max(1024, _throttleLimit * 64)), TimeSpan.FromMilliseconds(200));
        }

        public BatchCounters Counters { get; } = new BatchCounters();

        /// <summary>Set once the daily quota is spent: later rows are counted, not sent.</summary>
        public BatchHaltedException QuotaStop { get; private set; }

        public CancellationToken StopToken => _stop.Token;

        /// <summary>Queues one row; may block while the read-ahead window is full, writing finished rows meanwhile.</summary>
        public void Add(RowInput row)
        {
            Counters.Seen++;
            if (QuotaStop != null || _stopSending?.Kind == OutcomeKind.QuotaExhausted) { Counters.NotSent++; return; }
            _window.Add(() => Start(row), Deliver, _host.WriteNote, Tick, _stop.Token);
        }

        /// <summary>Waits for and writes every remaining row; throws the quota stop at the end if there was one.</summary>
        public void Complete()
        {
            _window.Pump(Deliver, _host.WriteNote, Tick, _stop.Token);
            _host.WriteProgress(Counters, completed: true);
            _host.WriteNote(Counters.Summary());
            if (QuotaStop != null) throw QuotaStop;
        }

        /// <summary>
        /// Ctrl+C: no new attempts start; requests in flight get a short grace to finish (an answer the server has
        /// already given is journaled, not lost to be sent again on resume); then the rest are cancelled down to the socket.
        /// Called on PowerShell's stopping thread; the pipeline thread writes nothing more once the pipeline is stopping.
        /// </summary>
        public void Stop()
        {
            if (_stopSending == null)
                _stopSending = ApiOutcome.Failure(OutcomeKind.NotSent, ErrorIds.ConnectionFailed, 0, "Not sent: the batch was stopped.");
            _inFlight.WhenIdleAsync().Wait(StopGrace);
            _stop.Cancel();
        }

        private Task<RowOutcome> Start(RowInput row)
        {
            var invalid = row.Validate();
            if (invalid != null)
                return Task.FromResult(new RowOutcome(row, KeyOf(row), invalid, attempts: 0, TimeSpan.Zero));
            if (_journal != null && _journal.TryGetAnswered(row.RowKey, out Response earlier))
                return Task.FromResult(new RowOutcome(row, earlier));
            // Off the pipeline thread at once: building the body and HttpClient's synchronous part of a send would
            // otherwise run there, one row at a time, and cap the requests in flight at zero latency.
            return Task.Run(() => SendAsync(row));
        }

        private async Task<RowOutcome> SendAsync(RowInput row)
        {
            var request = new PromptRequest(row.Prompt, row.AppName, row.FileUrl);
            RowOutcome result;
            try
            {
                var sent = await _sender.SendAsync(request, _stop.Token, note => _window.Note("Row " + (row.Index + 1) + ": " + note)).ConfigureAwait(false);
                result = new RowOutcome(row, KeyOf(row), sent.Outcome, sent.Attempts, sent.Duration);
            }
            catch (OperationCanceledException)
            {
                return RowOutcome.Cancelled(row);
            }
            catch (Exception ex)
            {
                // A bug of ours must cost one row, not the batch or the process.
                result = new RowOutcome(row, KeyOf(row), ApiOutcome.Failure(OutcomeKind.Permanent, ErrorIds.InvalidResponse, 0,
                    "Unexpected " + ex.GetType().Name + " while sending: " + ex.Message), 1, TimeSpan.Zero);
            }

            StopSendingAfter(result.Outcome); // also for the pacer's own daily refusal, which is not an attempt

            // Journal as soon as the row is finished, not when it is written: an interrupted run keeps every answer it paid for.
            if (_journal != null && result.IsFinal)
                _journal.Append(result.Response);
            return result;
        }

        private void StopSendingAfter(ApiOutcome outcome)
        {
            if (_stopSending != null) return;
            if (outcome.Kind == OutcomeKind.KeyRejected)
                _stopSending = outcome; // the row that meets it first in input order reports the API's own answer
            else if (outcome.Kind == OutcomeKind.QuotaExhausted)
                _stopSending = ApiOutcome.Failure(OutcomeKind.QuotaExhausted, ErrorIds.DailyQuotaExhausted, 0, "Not sent: the daily quota is spent.");
        }

        /// <summary>The journal key; hashing is skipped when there is no journal and no key column.</summary>
        private string KeyOf(RowInput row) => _journal != null ? row.RowKey : row.KeyValue;

        private void Deliver(RowOutcome result)
        {
            if (result.IsCancelled || result.Outcome?.Kind == OutcomeKind.NotSent) { Counters.NotSent++; return; }
            var outcome = result.Outcome;
            Counters.Retries += Math.Max(0, result.Response.Attempts - 1);

            if (outcome != null && outcome.Kind == OutcomeKind.KeyRejected)
            {
                _stop.Cancel(); // every other row would fail the same way
                throw new BatchHaltedException(outcome, result.Row);
            }
            if (outcome != null && outcome.Kind == OutcomeKind.QuotaExhausted)
            {
                Counters.NotSent++;
                // The first refusal the API explained (not our own "not sent" marker) is the one to report.
                if (QuotaStop == null || (QuotaStop.Outcome.StatusCode == 0 && outcome.StatusCode != 0))
                    QuotaStop = new BatchHaltedException(outcome, result.Row);
                return;
            }

            if (result.Response.FromJournal) Counters.FromJournal++;
            if (!result.Response.FromJournal) _session.History.Add(result.Response);
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

        private void Tick()
        {
            if (_sinceProgress.ElapsedMilliseconds < 250) return;
            _sinceProgress.Restart();
            _host.WriteProgress(Counters, completed: false);
        }

        public void Dispose()
        {
            _stop.Cancel();
            _window.Dispose();
            _stop.Dispose();
        }
    }

    /// <summary>How one row ended: an answer, a failure, a journal hit, or cancelled before it finished.</summary>
    internal sealed class RowOutcome
    {
        private RowOutcome(RowInput row) { Row = row; }

        public RowOutcome(RowInput row, string rowKey, ApiOutcome outcome, int attempts, TimeSpan duration) : this(row)
        {
            Outcome = outcome;
            Response = new Response
            {
                Prompt = row.Prompt,
                AppName = row.AppName,
                FileUrl = row.FileUrl,
                Message = outcome.Message,
                Success = outcome.IsSuccess,
                StatusCode = outcome.StatusCode,
                RequestId = outcome.RequestId,
                Attempts = attempts,
                Duration = duration,
                CompletedAt = DateTimeOffset.Now,
                ErrorId = outcome.ErrorId,
                ErrorMessage = outcome.ErrorMessage,
                RowKey = rowKey,
            };
        }

        public RowOutcome(RowInput row, Response fromJournal) : this(row)
        {
            Response = fromJournal.Clone();
        }

        public static RowOutcome Cancelled(RowInput row) => new RowOutcome(row) { IsCancelled = true };

        public RowInput Row { get; }
        public ApiOutcome Outcome { get; }
        public Response Response { get; }
        public bool IsCancelled { get; private set; }

        /// <summary>Finished for good: a success or a failure that a rerun would not change by waiting.</summary>
        public bool IsFinal => !IsCancelled && Outcome != null && Outcome.Kind != OutcomeKind.QuotaExhausted && Outcome.Kind != OutcomeKind.KeyRejected
                               && Outcome.Kind != OutcomeKind.NotSent;
    }
}
