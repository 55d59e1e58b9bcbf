using System.Threading.Tasks;

namespace CalStudio.Engine
{
    /// <summary>Something a stop's grace waits to fall idle.</summary>
    internal interface IIdleSignal
    {
        /// <summary>Completes when nothing is in hand (a new task each time it becomes busy again).</summary>
        Task WhenIdleAsync();
    }

    internal static class IdleSignal
    {
        /// <summary>The task an idle signal hands out; continuations run elsewhere, so whoever ends the last piece of work
        /// does not run the stopper's code inline.</summary>
        public static TaskCompletionSource<bool> New(bool completed)
        {
            var tcs = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (completed) tcs.SetResult(true);
            return tcs;
        }
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
        private TaskCompletionSource<bool> _idle = IdleSignal.New(completed: true);

        public int Count { get { lock (_sync) return _count; } }

        public void Enter()
        {
            lock (_sync) if (_count++ == 0) _idle = IdleSignal.New(completed: false);
        }

        public void Exit()
        {
            TaskCompletionSource<bool> idle = null;
            lock (_sync) if (--_count == 0) idle = _idle;
            idle?.TrySetResult(true);
        }

        public Task WhenIdleAsync() { lock (_sync) return _idle.Task; }
    }
}
