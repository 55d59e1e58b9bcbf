using System.Threading.Tasks;

namespace CalStudio.Engine
{
    /// <summary>Something a stop's grace waits to fall idle.</summary>
    internal interface IIdleSignal
    {
        /// <summary>Completes when nothing is in hand (a new task each time it becomes busy again).</summary>
        Task WhenIdleAsync();
    }

    /// <summary>
    /// Rows whose requests have started and that are not yet finished: answered and journaled, or ended unsent. A stop's
    /// grace waits for these, not only for the requests on the wire: an answer that has come back is paid for, but it is
    /// kept only once its row is journaled, a moment after its slot is free (longer on a loaded machine), and the journal
    /// closes as soon as the grace is over. Thread-safe.
    /// </summary>
    internal sealed class RowsInHand : IIdleSignal
    {
        private readonly object _sync = new object();
        private int _count;
        private TaskCompletionSource<bool> _idle = Idle();

        public int Count { get { lock (_sync) return _count; } }

        public void Enter()
        {
            lock (_sync) if (_count++ == 0) _idle = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public void Exit()
        {
            TaskCompletionSource<bool> idle = null;
            lock (_sync) if (--_count == 0) idle = _idle;
            idle?.TrySetResult(true);
        }

        public Task WhenIdleAsync() { lock (_sync) return _idle.Task; }

        private static TaskCompletionSource<bool> Idle()
        {
            var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            done.SetResult(true);
            return done;
        }
    }
}
