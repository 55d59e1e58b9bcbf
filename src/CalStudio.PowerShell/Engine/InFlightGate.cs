using System;
using System.Threading;
using System.Threading.Tasks;
using CalStudio.Client;

namespace CalStudio.Engine
{
    /// <summary>How one attempt went, as the in-flight gate learns from it (latency and overload answers).</summary>
    internal readonly struct AttemptReport
    {
        public AttemptReport(ApiOutcome outcome, TimeSpan latency) { Outcome = outcome; Latency = latency; }
        /// <summary>Null when the attempt was cancelled or never reached the network.</summary>
        public ApiOutcome Outcome { get; }
        public TimeSpan Latency { get; }
    }

    /// <summary>
    /// Decides how many attempts may be on the wire at once. An attempt holds a slot from just before the pacer's turn
    /// until its answer (never during a backoff wait). Idle when no attempt holds a slot.
    /// </summary>
    internal interface IInFlightGate : IIdleSignal
    {
        /// <param name="followUp">A retry or a re-ask of a row already sent: it waits ahead of first attempts.</param>
        Task EnterAsync(CancellationToken cancel, bool followUp = false);
        void Exit(AttemptReport report);
        int InFlight { get; }
    }

    /// <summary>A fixed number of slots: -ThrottleLimit as given.</summary>
    internal sealed class FixedInFlightGate : IInFlightGate
    {
        private readonly SemaphoreSlim _slots;
        private readonly object _gate = new object();
        private int _inFlight;
        private TaskCompletionSource<bool> _idle = IdleSignal.New(completed: true);

        public FixedInFlightGate(int limit)
        {
            Limit = limit;
            _slots = new SemaphoreSlim(limit, limit);
        }

        public int Limit { get; }
        public int InFlight { get { lock (_gate) return _inFlight; } }

        /// <summary>In arrival order (a semaphore's): a follow-up has no priority here.</summary>
        public async Task EnterAsync(CancellationToken cancel, bool followUp = false)
        {
            await _slots.WaitAsync(cancel).ConfigureAwait(false);
            lock (_gate)
            {
                if (_inFlight++ == 0) _idle = IdleSignal.New(completed: false);
            }
        }

        public void Exit(AttemptReport report)
        {
            TaskCompletionSource<bool> idle = null;
            lock (_gate)
            {
                if (--_inFlight == 0) idle = _idle;
            }
            _slots.Release();
            idle?.TrySetResult(true);
        }

        public Task WhenIdleAsync() { lock (_gate) return _idle.Task; }
    }
}
