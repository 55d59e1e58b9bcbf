using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using CalStudio.Engine;
using Xunit;

namespace CalStudio.Tests
{
    public class OrderedWindowTests
    {
        [Fact]
        public void Delivers_in_input_order_on_the_calling_thread_with_bounded_read_ahead()
        {
            var random = new Random(5);
            int callingThread = Environment.CurrentManagedThreadId;
            var delivered = new List<int>();
            int started = 0, maxAhead = 0;
            using (var window = new OrderedWindow<int>(window: 8, tick: TimeSpan.FromMilliseconds(20)))
            {
                for (int i = 0; i < 100; i++)
                {
                    int n = i, delay = random.Next(0, 15);
                    window.Add(async () => { Interlocked.Increment(ref started); await Task.Delay(delay); return n; },
                        v => { Assert.Equal(callingThread, Environment.CurrentManagedThreadId); delivered.Add(v); },
                        _ => { }, null, CancellationToken.None);
                    maxAhead = Math.Max(maxAhead, started - delivered.Count);
                }
                window.Pump(v => delivered.Add(v), _ => { }, null, CancellationToken.None);
            }
            Assert.Equal(100, delivered.Count);
            for (int i = 0; i < 100; i++) Assert.Equal(i, delivered[i]);
            Assert.InRange(maxAhead, 1, 8);
        }

        [Fact]
        public void Notes_from_workers_arrive_on_the_calling_thread()
        {
            int callingThread = Environment.CurrentManagedThreadId;
            var notes = new List<string>();
            using (var window = new OrderedWindow<int>(4, TimeSpan.FromMilliseconds(10)))
            {
                window.Add(() => Task.Run(() => { window.Note("from worker"); return 1; }), _ => { },
                    m => { Assert.Equal(callingThread, Environment.CurrentManagedThreadId); notes.Add(m); }, null, CancellationToken.None);
                window.Pump(_ => { }, m => notes.Add(m), null, CancellationToken.None);
            }
            Assert.Contains("from worker", notes);
        }

        [Fact]
        public void Cancellation_ends_a_wait_at_once()
        {
            using (var cts = new CancellationTokenSource())
            using (var window = new OrderedWindow<int>(1, TimeSpan.FromSeconds(30)))
            {
                window.Add(() => new TaskCompletionSource<int>().Task, _ => { }, _ => { }, null, CancellationToken.None);
                cts.CancelAfter(100);
                Assert.ThrowsAny<OperationCanceledException>(() => window.Pump(_ => { }, _ => { }, null, cts.Token));
            }
        }
    }
}
