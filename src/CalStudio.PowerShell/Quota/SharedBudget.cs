using System;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace CalStudio.Quota
{
    /// <summary>The pacing state every user of one key on this machine shares.</summary>
    internal sealed class BudgetState
    {
        /// <summary>Earliest start of the next request under the configured requests-per-minute (UTC ticks).</summary>
        public long NextSlot;
        /// <summary>The UTC day (yyyyMMdd) that DayCount counts.</summary>
        public int Day;
        public int DayCount;
        /// <summary>From X-RateLimit-*: the window's end (UTC ticks), the limit, and the requests still believed left.</summary>
        public long WindowReset;
        public int WindowLimit;
        public int WindowLeft;
        /// <summary>Nobody starts before this (a 429's Retry-After), UTC ticks.</summary>
        public long PauseUntil;
        /// <summary>Spacing of header-paced starts: the last start (UTC ticks).</summary>
        public long LastStart;

        public string Serialize() =>
            string.Join(" ", new[] { NextSlot, Day, DayCount, WindowReset, WindowLimit, WindowLeft, PauseUntil, LastStart }
                .Select(v => v.ToString(CultureInfo.InvariantCulture)));

        public static BudgetState Parse(string text)
        {
            var state = new BudgetState();
            var parts = (text ?? "").Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
            long Part(int i) => i < parts.Length && long.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : 0;
            state.NextSlot = Part(0);
            state.Day = (int)Part(1);
            state.DayCount = (int)Part(2);
            state.WindowReset = Part(3);
            state.WindowLimit = (int)Part(4);
            state.WindowLeft = (int)Part(5);
            state.PauseUntil = Part(6);
            state.LastStart = Part(7);
            return state;
        }
    }

    /// <summary>
    /// A small state file per key (named by a hash of the key, never the key) in the user's local application
    /// data, locked while it is read and written, so every runspace and every process using one key draws on
    /// one budget. Within a process a lock per file keeps threads from spinning on the file lock.
    /// </summary>
    internal sealed class SharedBudget
    {
        private static readonly ConcurrentDictionary<string, object> ProcessLocks = new ConcurrentDictionary<string, object>(StringComparer.Ordinal);
        private readonly object _processLock;

        public SharedBudget(string path)
        {
            Path = path;
            _processLock = ProcessLocks.GetOrAdd(path, _ => new object());
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path));
        }

        public string Path { get; }

        public static string DefaultFolder()
        {
            string overridden = Environment.GetEnvironmentVariable("CALSTUDIO_STATE_DIR");
            if (!string.IsNullOrEmpty(overridden)) return overridden;
            string local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
            if (string.IsNullOrEmpty(local)) local = System.IO.Path.GetTempPath();
            return System.IO.Path.Combine(local, "CalStudio", "budget");
        }

        /// <summary>Reads, changes and writes the state under the machine-wide lock; returns what <paramref name="update"/> returns.</summary>
        public T Update<T>(Func<BudgetState, T> update)
        {
            lock (_processLock)
            {
                using (var file = OpenLocked())
                {
                    var buffer = new byte[256];
                    int read = file.Read(buffer, 0, buffer.Length);
                    var state = BudgetState.Parse(Encoding.ASCII.GetString(buffer, 0, read));
                    T result = update(state);
                    byte[] text = Encoding.ASCII.GetBytes(state.Serialize());
                    file.SetLength(0);
                    file.Write(text, 0, text.Length);
                    return result;
                }
            }
        }

        /// <summary>As <see cref="Update{T}"/>, for async callers: waiting for the lock must not block a thread-pool thread.</summary>
        public Task<T> UpdateAsync<T>(Func<BudgetState, T> update, CancellationToken cancel = default(CancellationToken))
        {
            cancel.ThrowIfCancellationRequested();
            return Task.FromResult(Update(update));
        }

        /// <summary>The state as it stands, without writing the file (for Get-CalStudioConnection and -WhatIf).</summary>
        public BudgetState Read() => Update(s => s);

        /// <summary>A warning to show the user once (the state file is unusable and pacing went in-process), if there is one.</summary>
        public bool TryTakeWarning(out string warning)
        {
            warning = null;
            return false;
        }

        private FileStream OpenLocked()
        {
            for (int attempt = 0; ; attempt++)
            {
                try { return new FileStream(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 256, FileOptions.None); }
                catch (IOException) when (attempt < 2000) { Thread.Sleep(attempt < 20 ? 1 : 5); } // another process holds it
            }
        }
    }
}
