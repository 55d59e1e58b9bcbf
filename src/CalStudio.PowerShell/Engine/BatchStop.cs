using System;
using System.Threading;
using System.Threading.Tasks;
using CalStudio.Client;

namespace CalStudio.Engine
{
    /// <summary>Why a batch stopped sending before its input ran out.</summary>
    internal enum StopReason
    {
        None,
        /// <summary>Ctrl+C (StopProcessing).</summary>
        Cancelled,
        /// <summary>A 401, or a 403 for every request: every other row would fail the same way.</summary>
        KeyRejected,
        /// <summary>The daily quota is spent (the API's 429, the local -RequestsPerDay count, or a Retry-After too long to wait).</summary>
        QuotaExhausted,
        /// <summary>The journal cannot be written (disk full, read-only, deleted): answers would be paid for and not kept. Drains as QuotaExhausted does.</summary>
        JournalWriteFailed,
        /// <summary>Rows in a row failed on transport or 5xx with their retries spent (<see cref="OutageBreaker"/>).</summary>
        ApiUnreachable,
    }

    /// <summary>
    /// The one place a batch's stop lives. The first reason wins. A stop at once refuses new attempts (queued rows and
    /// backoff waits end unsent); what happens to the requests already on the wire is the reason's <see cref="StopKind"/>:
    /// a quota stop lets them run to their answer, so what the server has been paid for is journaled rather than paid
    /// for again on resume; Ctrl+C and a rejected key give them a short grace (their refusals come at once).
    /// </summary>
    internal sealed class BatchStop : IDisposable
    {
        private sealed class Record
        {
            public Record(StopReason reason, ApiOutcome cause) { Reason = reason; Cause = cause; }
            public readonly StopReason Reason;
            public readonly ApiOutcome Cause;
        }

        private readonly CancellationTokenSource _noNewAttempts = new CancellationTokenSource();
        private readonly CancellationTokenSource _abort = new CancellationTokenSource();
        private readonly CancellationTokenSource _cancelled = new CancellationTokenSource();
        private readonly IIdleSignal _inHand;
        private readonly TimeSpan _grace;
        private Record _record;
        private volatile Task _graceOver = Task.CompletedTask;

        /// <param name="inHand">What the wait is for: the batch's rows in hand (their answers journaled), or a gate's slots.</param>
        public BatchStop(IIdleSignal inHand, TimeSpan grace)
        {
            _inHand = inHand;
            _grace = grace;
        }

        public StopReason Reason => Volatile.Read(ref _record)?.Reason ?? StopReason.None;

        /// <summary>The answer that stopped the batch (the 401, the quota refusal); null for Ctrl+C.</summary>
        public ApiOutcome Cause => Volatile.Read(ref _record)?.Cause;

        /// <summary>Fires at the stop: waits for a slot, a pacing turn or a backoff end, and no new attempt starts.</summary>
        public CancellationToken NoNewAttempts => _noNewAttempts.Token;

        /// <summary>Fires when the stop's wait is over: requests still on the wire are cancelled down to the socket.</summary>
        public CancellationToken Abort => _abort.Token;

        /// <summary>Fires only for Ctrl+C (also during another stop's drain), after the grace: the pipeline thread stops waiting for rows.</summary>
        public CancellationToken Cancelled => _cancelled.Token;

        /// <summary>Stops the batch for <paramref name="reason"/> unless it is already stopping; true when this call stopped it.</summary>
        public bool Request(StopReason reason, ApiOutcome cause)
        {
            if (Interlocked.CompareExchange(ref _record, new Record(reason, cause), null) != null) return false;
            var kind = StopKind.Of(reason);
            _graceOver = AbortAfterAsync(kind == StopKind.Grace ? _grace : kind.Wait, cancelPipeline: reason == StopReason.Cancelled);
            _noNewAttempts.Cancel();
            return true;
        }

        /// <summary>
        /// Ctrl+C or SIGTERM: stops the batch, or cuts a quota stop's drain down to the short grace, so the console answers
        /// at once (the reason stays the first one); returns when the grace is over.
        /// </summary>
        public void Interrupt()
        {
            Task over;
            if (Request(StopReason.Cancelled, null)) over = _graceOver;
            else _graceOver = over = AbortAfterAsync(_grace, cancelPipeline: true);
            try { over.Wait(); }
            catch (AggregateException) { }
        }

        /// <summary>Blocks until the requests in flight have finished or had their grace.</summary>
        public void WaitForGrace(CancellationToken cancel)
        {
            try { _graceOver.Wait(cancel); }
            catch (AggregateException) { }
        }

        private async Task AbortAfterAsync(TimeSpan wait, bool cancelPipeline)
        {
            await Task.Yield(); // never run the wait inline in the attempt that asked for the stop
            if (wait == System.Threading.Timeout.InfiniteTimeSpan) await _inHand.WhenIdleAsync().ConfigureAwait(false);
            else if (wait > TimeSpan.Zero) await Task.WhenAny(_inHand.WhenIdleAsync(), Task.Delay(wait)).ConfigureAwait(false);
            try
            {
                _abort.Cancel();
                if (cancelPipeline) _cancelled.Cancel();
            }
            catch (ObjectDisposedException) { } // the batch ended meanwhile
        }

        public void Dispose()
        {
            try
            {
                _noNewAttempts.Cancel();
                _abort.Cancel();
            }
            catch (ObjectDisposedException) { }
        }
    }
}
