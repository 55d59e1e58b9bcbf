using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace CalStudio.Quota
{
    /// <summary>
    /// A small state file per key (named by a hash of the key, never the key) in the user's local application
    /// data, locked while it is read and written, so every runspace and every process using one key draws on
    /// one budget. Within a process an async gate per file keeps callers from contending for the file lock;
    /// across processes the file lock is retried with short, growing waits.
    /// When the file cannot be used (unreadable, unwritable, a folder in its place, or its lock held by another
    /// process for longer than <see cref="DefaultLockPatience"/>), the budget carries on in memory, shared by every
    /// SharedBudget on the path in this process, and gives one warning; it never throws for file trouble.
    /// </summary>
    internal sealed class SharedBudget
    {
        /// <summary>How long another process may hold the file lock before this process stops waiting and paces alone.</summary>
        public static readonly TimeSpan DefaultLockPatience = TimeSpan.FromSeconds(3);
        // While in memory, an access now and then tries the file once (without waiting) to return to it.
        private static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(30);
        private const int LongestRetryDelayMs = 100;
        private static readonly ConcurrentDictionary<string, PathState> Paths = new ConcurrentDictionary<string, PathState>(StringComparer.Ordinal);

        private readonly PathState _shared;
        private readonly TimeSpan _lockPatience;
        // The fallback episode this instance has already warned about (0: none).
        private int _warnedEpisode;
        private int _openAttempts;

        public SharedBudget(string path) : this(path, DefaultLockPatience) { }

        internal SharedBudget(string path, TimeSpan lockPatience)
        {
            Path = path;
            _lockPatience = lockPatience;
            _shared = Paths.GetOrAdd(PathKey(path), _ => new PathState());
        }

        public string Path { get; }

        /// <summary>Attempts to open the file so far (for tests: waiting on a held lock is bounded).</summary>
        internal int OpenAttempts => Volatile.Read(ref _openAttempts);

        /// <summary>True while the budget is kept in memory because the file cannot be used.</summary>
        internal bool InMemory => _shared.Problem != null;

        public static string DefaultFolder()
        {
            string overridden = Environment.GetEnvironmentVariable("CALSTUDIO_STATE_DIR");
            if (!string.IsNullOrEmpty(overridden)) return overridden;
            string local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
            if (string.IsNullOrEmpty(local)) local = System.IO.Path.GetTempPath();
            return System.IO.Path.Combine(local, "CalStudio", "budget");
        }

        /// <summary>
        /// Reads, changes and writes the state under the machine-wide lock; returns what <paramref name="update"/> returns.
        /// For synchronous callers only: waiting for another process's lock blocks this thread (at most the lock patience, once).
        /// </summary>
        public T Update<T>(Func<BudgetState, T> update) =>
            // Synchronous mode never awaits an incomplete task, so this does not block on an async continuation.
            UpdateCoreAsync(update, synchronous: true, CancellationToken.None).GetAwaiter().GetResult();

        /// <summary>As <see cref="Update{T}"/>, for async callers: waiting for either lock does not block a thread.</summary>
        public Task<T> UpdateAsync<T>(Func<BudgetState, T> update, CancellationToken cancel = default(CancellationToken)) =>
            UpdateCoreAsync(update, synchronous: false, cancel);

        /// <summary>
        /// The state as it stands, without writing or creating the file (for Get-CalStudioConnection and -WhatIf):
        /// a shared-read open, or the in-memory state when the file cannot be used.
        /// </summary>
        public BudgetState Read()
        {
            _shared.Gate.Wait();
            try
            {
                if (_shared.Problem == null)
                {
                    var opened = OpenAsync(forWrite: false, synchronous: true, _lockPatience, CancellationToken.None).GetAwaiter().GetResult();
                    if (opened.Problem == null && opened.File == null) return new BudgetState(); // no state yet
                    if (opened.File != null)
                        using (opened.File)
                        {
                            try { _shared.Memory = BudgetState.Parse(ReadAll(opened.File)); }
                            catch (Exception ex) when (IsFileTrouble(ex)) { opened = Opened.Failed(Describe(ex)); }
                        }
                    if (opened.Problem != null) FallBack(opened.Problem);
                }
                return Copy(_shared.Memory);
            }
            finally { _shared.Gate.Release(); }
        }

        /// <summary>
        /// A command starts (Connect-CalStudio, a batch): tries the file now, returning to it if it is usable again.
        /// If it is not, this instance's next <see cref="TryTakeWarning"/> gives the warning again, so each command says so once.
        /// Synchronous: may wait up to the lock patience for another process's lock. Writes only when returning to the file.
        /// </summary>
        public void Check()
        {
            _shared.Gate.Wait();
            try
            {
                var opened = OpenAsync(forWrite: true, synchronous: true, _lockPatience, CancellationToken.None).GetAwaiter().GetResult();
                if (opened.File != null)
                {
                    using (opened.File)
                    {
                        if (_shared.Problem == null) return;
                        try { WriteAll(opened.File, Reconcile(BudgetState.Parse(ReadAll(opened.File)))); return; }
                        catch (Exception ex) when (IsFileTrouble(ex)) { opened = Opened.Failed(Describe(ex)); }
                    }
                }
                FallBack(opened.Problem);
                lock (_shared) _warnedEpisode = 0;
            }
            finally { _shared.Gate.Release(); }
        }

        /// <summary>A warning to show the user once per fallback (the state file is unusable and pacing went in-process), if there is one.</summary>
        public bool TryTakeWarning(out string warning)
        {
            warning = null;
            lock (_shared)
            {
                if (_shared.Problem == null || _warnedEpisode == _shared.Episode) return false;
                _warnedEpisode = _shared.Episode;
                warning = "The CalStudio quota state file '" + Path + "' cannot be used (" + _shared.Problem + "); pacing continues in this " +
                          "process only, so other processes using this key are not counted. Set CALSTUDIO_STATE_DIR to a writable folder " +
                          "to share the budget again.";
                return true;
            }
        }

        private async Task<T> UpdateCoreAsync<T>(Func<BudgetState, T> update, bool synchronous, CancellationToken cancel)
        {
            cancel.ThrowIfCancellationRequested();
            if (synchronous) _shared.Gate.Wait(cancel);
            else await _shared.Gate.WaitAsync(cancel).ConfigureAwait(false);
            try
            {
                bool useFile = _shared.Problem == null;
                bool probe = !useFile && _shared.ProbeDue();
                if (useFile || probe)
                {
                    var opened = await OpenAsync(forWrite: true, synchronous, probe ? TimeSpan.Zero : _lockPatience, cancel).ConfigureAwait(false);
                    if (opened.File != null)
                        using (opened.File) return ApplyToFile(opened.File, update);
                    if (useFile) FallBack(opened.Problem);
                }
                return update(_shared.Memory);
            }
            finally { _shared.Gate.Release(); }
        }

        /// <summary>One read-change-write of the locked file. File trouble part-way sends the change to memory instead; an exception from <paramref name="update"/> itself propagates.</summary>
        private T ApplyToFile<T>(FileStream file, Func<BudgetState, T> update)
        {
            BudgetState state;
            try { state = BudgetState.Parse(ReadAll(file)); }
            catch (Exception ex) when (IsFileTrouble(ex))
            {
                FallBack(Describe(ex));
                return update(_shared.Memory);
            }
            if (_shared.Problem != null) state = Reconcile(state);
            T result = update(state);
            try { WriteAll(file, state); }
            catch (Exception ex) when (IsFileTrouble(ex)) { FallBack(Describe(ex)); }
            _shared.Memory = state; // after a failed write too: the change is kept in memory, not lost
            return result;
        }

        /// <summary>Back to the file after a fallback: the file's state with what this process did meanwhile folded in. Caller holds the gate.</summary>
        private BudgetState Reconcile(BudgetState file)
        {
            var memory = _shared.Memory;
            var merged = Copy(file);
            merged.NextSlot = Math.Max(file.NextSlot, memory.NextSlot);
            merged.PauseUntil = Math.Max(file.PauseUntil, memory.PauseUntil);
            merged.LastStart = Math.Max(file.LastStart, memory.LastStart);
            // Requests counted in memory since the fallback began were never added to the file: add them now.
            int countedInMemory = memory.DayCount - (memory.Day == _shared.DayAtFallback ? _shared.CountAtFallback : 0);
            if (memory.Day > file.Day) { merged.Day = memory.Day; merged.DayCount = memory.DayCount; }
            else if (memory.Day == file.Day) merged.DayCount = file.DayCount + Math.Max(0, countedInMemory);
            merged.WindowLength = Math.Max(file.WindowLength, memory.WindowLength);
            merged.ProbeUntil = Math.Max(file.ProbeUntil, memory.ProbeUntil);
            if (memory.WindowReset > file.WindowReset)
            {
                // The newer window is the one this process saw: all of its fields come together.
                merged.WindowReset = memory.WindowReset;
                merged.WindowLimit = memory.WindowLimit;
                merged.WindowLeft = memory.WindowLeft;
                merged.WindowOpened = memory.WindowOpened;
                merged.ServerLeft = memory.ServerLeft;
                merged.ResetSent = memory.ResetSent;
            }
            else if (memory.WindowReset == file.WindowReset)
            {
                merged.WindowLimit = Math.Max(file.WindowLimit, memory.WindowLimit);
                merged.WindowLeft = Math.Min(file.WindowLeft, memory.WindowLeft);
            }
            if (memory.SpentAt > file.SpentAt) { merged.SpentAt = memory.SpentAt; merged.SpentCount = memory.SpentCount; }
            merged.RefillTicks = Math.Max(file.RefillTicks, memory.RefillTicks);
            merged.DaySpentUntil = Math.Max(file.DaySpentUntil, memory.DaySpentUntil);
            if (memory.Learned.Spacing > file.Learned.Spacing) merged.Learned = memory.Learned; // the slower learned rate is the safe one
            _shared.Memory = merged;
            lock (_shared) _shared.Problem = null;
            return merged;
        }

        /// <summary>Pacing continues in memory from the file's state if it can still be read, else the last state this process saw. Caller holds the gate.</summary>
        private void FallBack(string problem)
        {
            if (_shared.Problem == null) _shared.Memory = TryReadOnce() ?? _shared.Memory;
            lock (_shared)
            {
                _shared.LastProbe = Stopwatch.StartNew();
                if (_shared.Problem != null) return;
                _shared.Problem = problem;
                _shared.Episode++;
                _shared.DayAtFallback = _shared.Memory.Day;
                _shared.CountAtFallback = _shared.Memory.DayCount;
            }
        }

        private struct Opened
        {
            public FileStream File;
            public string Problem;
            public static Opened Failed(string problem) => new Opened { Problem = problem };
        }

        /// <summary>
        /// Opens the file: exclusively for a change (creating it and its folder), or shared for a read (a missing file is no
        /// problem: no state yet). Another process's lock is retried with short, growing waits up to <paramref name="patience"/>.
        /// </summary>
        private async Task<Opened> OpenAsync(bool forWrite, bool synchronous, TimeSpan patience, CancellationToken cancel)
        {
            var waited = Stopwatch.StartNew();
            for (int delayMs = 1; ; delayMs = Math.Min(delayMs * 2, LongestRetryDelayMs))
            {
                Interlocked.Increment(ref _openAttempts);
                try { return new Opened { File = forWrite ? OpenExclusive() : new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 256) }; }
                catch (Exception ex) when (!forWrite && (ex is FileNotFoundException || ex is DirectoryNotFoundException)) { return new Opened(); }
                catch (IOException ex) when (IsLockConflict(ex))
                {
                    if (waited.Elapsed + TimeSpan.FromMilliseconds(delayMs) > patience)
                        return Opened.Failed("another process has held its lock for over " +
                                             Math.Max(0.1, patience.TotalSeconds).ToString("0.#", CultureInfo.InvariantCulture) + " s");
                }
                catch (Exception ex) when (IsFileTrouble(ex)) { return Opened.Failed(Describe(ex)); }
                if (synchronous) Thread.Sleep(delayMs);
                else await Task.Delay(delayMs, cancel).ConfigureAwait(false);
            }
        }

        /// <summary>The file's state by one shared read (a read-only file still has today's count), or null.</summary>
        private BudgetState TryReadOnce()
        {
            try
            {
                using (var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 256))
                    return BudgetState.Parse(ReadAll(file));
            }
            catch (Exception ex) when (IsFileTrouble(ex)) { return null; }
        }

        /// <summary>
        /// A missing file is created 0600 on Unix in the creation call itself (the folder's ACL on Windows). Unbuffered
        /// (bufferSize 1): a write fails in Write, where it is caught, and Dispose has no bytes left to flush and fail again.
        /// </summary>
        private FileStream OpenExclusive()
        {
            try { return new FileStream(Path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1); }
            catch (FileNotFoundException) { }
            catch (DirectoryNotFoundException) { Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)); }
            Journal.UnixFile.CreateOwnerOnly(Path);
            return new FileStream(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1);
        }

        private const int MaxStateBytes = 1024; // the state has grown past 256 characters (the learned rate)

        private static string ReadAll(FileStream file)
        {
            var buffer = new byte[MaxStateBytes];
            int read = file.Read(buffer, 0, buffer.Length);
            return Encoding.ASCII.GetString(buffer, 0, read);
        }

        private static void WriteAll(FileStream file, BudgetState state)
        {
            // Overwritten in place, padded with spaces to the old length: truncating first makes ext4 flush on close (~ms).
            string text = state.Serialize();
            byte[] bytes = Encoding.ASCII.GetBytes(text.PadRight((int)Math.Min(file.Length, MaxStateBytes)));
            file.Position = 0;
            file.Write(bytes, 0, bytes.Length);
            file.Flush(); // a failed write surfaces here, where it is caught, not in Dispose
        }

        /// <summary>Another process holds the file's lock: a sharing/lock violation on Windows, EWOULDBLOCK from flock on Unix.</summary>
        private static bool IsLockConflict(IOException ex)
        {
            if (ex.GetType() != typeof(IOException)) return false;
            int code = ex.HResult & 0xFFFF;
            return System.IO.Path.DirectorySeparatorChar == '\\' ? code == 32 || code == 33 : code == 11 || code == 35;
        }

        /// <summary>Anything the file system can throw; cancellation is the caller's, not trouble with the file.</summary>
        private static bool IsFileTrouble(Exception ex) => !(ex is OperationCanceledException);

        private static string Describe(Exception ex) => ex.GetType().Name + ": " + ex.Message;

        private static BudgetState Copy(BudgetState state) => BudgetState.Parse(state.Serialize());

        private static string PathKey(string path)
        {
            try { return System.IO.Path.GetFullPath(path); }
            catch (Exception) { return path ?? ""; } // an unusable path is reported when the file is first opened
        }

        /// <summary>What every SharedBudget on one path in this process shares: the gate, and the in-memory state for a fallback.</summary>
        private sealed class PathState
        {
            public readonly SemaphoreSlim Gate = new SemaphoreSlim(1, 1);
            /// <summary>The last state seen in the file; during a fallback, the state itself. Changed only under the gate.</summary>
            public BudgetState Memory = new BudgetState();
            /// <summary>Why the file is not used, or null while it is. Set under the gate and lock(this).</summary>
            public volatile string Problem;
            public int Episode;
            public int DayAtFallback;
            public int CountAtFallback;
            public Stopwatch LastProbe;

            public bool ProbeDue()
            {
                lock (this)
                {
                    if (LastProbe != null && LastProbe.Elapsed < ProbeInterval) return false;
                    LastProbe = Stopwatch.StartNew();
                    return true;
                }
            }
        }
    }
}
