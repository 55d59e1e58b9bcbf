using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using CalStudio.Journal;

namespace CalStudio.Engine
{
    /// <summary>
    /// Rows that repeat an earlier row's key and request (<see cref="RowKeys"/>) take that row's outcome: sent once,
    /// emitted for each of them, in input order. Memory: a first row is held only until it is written; after that a
    /// repeat reads its answer back from the journal. What the journal cannot answer (a failure, or any row when there
    /// is no journal) is kept without its input row. Called on the pipeline thread only, as the batch starts and
    /// delivers rows.
    /// </summary>
    internal sealed class RepeatedRows
    {
        private readonly bool _keyed;
        private readonly JournalFile _journal;
        private readonly Dictionary<string, Task<RowOutcome>> _pending = new Dictionary<string, Task<RowOutcome>>(System.StringComparer.Ordinal);
        private readonly Dictionary<string, RowOutcome> _settled = new Dictionary<string, RowOutcome>(System.StringComparer.Ordinal);

        public RepeatedRows(bool keyed, JournalFile journal)
        {
            _keyed = keyed;
            _journal = journal;
        }

        /// <summary>The first row of its key, started: repeats until it is written follow its task.</summary>
        public void First(RowInput row, Task<RowOutcome> started)
        {
            if (_keyed) _pending[row.RowKey] = started;
        }

        /// <summary>The repeat's outcome, to come with its first row's; null when nothing is left of it (not sent, or its line unreadable): send the row.</summary>
        public Task<RowOutcome> Follow(RowInput row)
        {
            if (_pending.TryGetValue(row.RowKey, out Task<RowOutcome> first))
                return first.ContinueWith(t => t.GetAwaiter().GetResult().RepeatedFor(row), CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            if (_settled.TryGetValue(row.RowKey, out RowOutcome settled)) return Task.FromResult(settled.RepeatedFor(row));
            if (_journal != null && _journal.Lookup(row.RowKey, row.Fingerprint, out Response earlier) == JournalMatch.Answered)
                return Task.FromResult(RowOutcome.FromJournal(row, earlier).RepeatedFor(row));
            return null;
        }

        /// <summary>Every row, as it is written: a first row stops being held, and is kept only if the journal cannot answer for it.</summary>
        public void Delivered(RowOutcome result)
        {
            if (!_keyed || result.IsRepeat || result.Row == null) return;
            string key = result.Row.RowKey;
            if (!_pending.TryGetValue(key, out Task<RowOutcome> task) || !task.IsCompleted || !ReferenceEquals(task.Result.Row, result.Row)) return;
            _pending.Remove(key);
            if (result.IsNotSent || (_journal != null && result.Response.Success)) return;
            _settled[key] = result.WithoutRow();
        }
    }
}
