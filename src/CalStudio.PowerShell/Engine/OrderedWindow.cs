using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace CalStudio.Engine
{
    /// <summary>
    /// Runs work items concurrently and hands their results back in input order, on the caller's thread only
    /// (PowerShell refuses writes from other threads). Read-ahead is bounded by <c>window</c>: when that many
    /// items are started but not yet handed back, <see cref="Add"/> blocks and keeps handing back what is ready,
    /// so memory stays flat on any input size and a slow item holds back output, not requests.
    /// </summary>
    internal sealed class OrderedWindow<T> : IDisposable
    {
        private readonly Queue<Task<T>> _pending = new Queue<Task<T>>();
        private readonly SemaphoreSlim _changed = new SemaphoreSlim(0);
        private readonly ConcurrentQueue<string> _notes = new ConcurrentQueue<string>();
        private readonly ConcurrentQueue<string> _debugNotes = new ConcurrentQueue<string>();
        private readonly int _window;
        private readonly TimeSpan _tick;

        public OrderedWindow(int window, TimeSpan tick)
        {
            _window = Math.Max(1, window);
            _tick = tick;
        }

        public int Pending => _pending.Count;

        /// <summary>Thread-safe: a worker's message, handed to the caller's thread at the next pump.</summary>
        public void Note(string message)
        {
            _notes.Enqueue(message);
            _changed.Release();
        }

        /// <summary>Where <see cref="DebugNote"/> messages go, on the caller's thread; null: they are dropped.</summary>
        public Action<string> DebugSink { get; set; }

        /// <summary>Thread-safe, as <see cref="Note"/>: a -Debug trace line.</summary>
        public void DebugNote(string message)
        {
            _debugNotes.Enqueue(message);
            _changed.Release();
        }

        /// <summary>Starts one item, first waiting (and delivering) while the window is full.</summary>
        public void Add(Func<Task<T>> start, Action<T> deliver, Action<string> note, Action tick, CancellationToken cancel)
        {
            Pump(deliver, note, tick, cancel, untilAtMost: _window - 1);
            Task<T> task = start();
            _pending.Enqueue(task);
            task.ContinueWith(_ => _changed.Release(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            DeliverReady(deliver, note);
        }

        /// <summary>Delivers results in order until no more than <paramref name="untilAtMost"/> remain pending.</summary>
        public void Pump(Action<T> deliver, Action<string> note, Action tick, CancellationToken cancel, int untilAtMost = 0)
        {
            DeliverReady(deliver, note);
            while (_pending.Count > untilAtMost)
            {
                _changed.Wait(_tick, cancel);
                DeliverReady(deliver, note);
                tick?.Invoke();
            }
        }

        private void DeliverReady(Action<T> deliver, Action<string> note)
        {
            while (_notes.TryDequeue(out string message)) note(message);
            while (_debugNotes.TryDequeue(out string trace)) DebugSink?.Invoke(trace);
            while (_pending.Count > 0 && _pending.Peek().IsCompleted)
                deliver(_pending.Dequeue().GetAwaiter().GetResult());
        }

        public void Dispose() => _changed.Dispose();
    }
}
