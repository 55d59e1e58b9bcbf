using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace CalStudio.Quota
{
    /// <summary>
    /// Today's count for requests the pacer lets straight through (no plan, no limits learned): the pacer takes no turn
    /// in the shared state for them, so they are counted here and added to its DayCount at most once a second, and when
    /// a command reads or ends. So RequestsToday counts every request, plan or not, at one file update a second at most.
    /// </summary>
    internal sealed class UnpacedCount
    {
        private static readonly TimeSpan FlushEvery = TimeSpan.FromSeconds(1);
        private readonly Stopwatch _sinceFlush = Stopwatch.StartNew();
        private int _pending;

        /// <summary>Requests counted here and not yet in the shared state.</summary>
        public int Pending => Volatile.Read(ref _pending);

        public Task CountAsync(SharedBudget budget, Func<DateTimeOffset, int> today, CancellationToken cancel)
        {
            Interlocked.Increment(ref _pending);
            return _sinceFlush.Elapsed >= FlushEvery ? FlushAsync(budget, today, cancel) : Task.CompletedTask;
        }

        public async Task FlushAsync(SharedBudget budget, Func<DateTimeOffset, int> today, CancellationToken cancel)
        {
            int n = Interlocked.Exchange(ref _pending, 0);
            _sinceFlush.Restart();
            if (n == 0) return;
            try
            {
                await budget.UpdateAsync(s =>
                {
                    int day = today(DateTimeOffset.UtcNow);
                    if (s.Day != day) { s.Day = day; s.DayCount = 0; }
                    s.DayCount += n;
                    return true;
                }, cancel).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { Interlocked.Add(ref _pending, n); } // counted at the next flush
        }
    }
}
