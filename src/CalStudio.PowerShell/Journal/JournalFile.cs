using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using CalStudio.Client;

namespace CalStudio.Journal
{
    /// <summary>Raised when a journal cannot be used; the cmdlets turn it into a terminating error.</summary>
    public sealed class JournalException : Exception
    {
        public JournalException(string errorId, string message, Exception inner = null) : base(message, inner) { ErrorId = errorId; }
        public string ErrorId { get; }
    }

    /// <summary>What a journal says about a row.</summary>
    public enum JournalMatch
    {
        /// <summary>No successful entry for the row's key: send it.</summary>
        None,
        /// <summary>A successful entry for this key and this request (the newest of them): the earlier answer stands.</summary>
        Answered,
        /// <summary>Successful entries for this key, all to other requests (new prompt, app or file): send it.</summary>
        Superseded,
    }

    /// <summary>
    /// An append-only JSON-lines journal of finished rows, so a rerun sends only what is not yet answered.
    /// One run writes it at a time: an exclusive lock on the path's "journal.jsonl.lock" (<see cref="PathLock"/>) held
    /// until Dispose; the journal itself is shared, so readers (Get-Content, Get-CalStudioResponse, -WhatIf) are never
    /// blocked. Each line is written whole, one write, as the row finishes; a write that fails is cut back to the last
    /// whole line and raises JournalWriteFailed. Lines reach the disk (fsync) about once a second and at Sync and Dispose,
    /// and each sync checks the path still names this file. Memory holds only (key, fingerprint) -> line position
    /// of the newest success of each key and request (<see cref="AnswerIndex"/>); an answer is read back from its line when a row needs it.
    /// </summary>
    internal sealed partial class JournalFile : IDisposable
    {
        private static readonly UTF8Encoding Utf8 = new UTF8Encoding(false);

        private readonly object _gate = new object();
        private readonly AnswerIndex _answered = new AnswerIndex();
        private static readonly TimeSpan SyncInterval = TimeSpan.FromSeconds(1);
        private FileStream _stream;
        private readonly PathLock _lock; // null for a journal opened to read (-WhatIf): nothing is written
        private Timer _syncTimer;
        private bool _unsynced;
        private JournalException _broken; // a failed sync, or the file gone from its path: no later line is kept

        private JournalFile(string path, FileStream stream, PathLock held) { Path = path; _stream = stream; _lock = held; }

        public string Path { get; }
        public IReadOnlyList<string> Warnings { get; private set; } = new string[0];

        /// <summary>The request fingerprint the journal compares; the engine computes a row's with it.</summary>
        public static string Fingerprint(string appName, string prompt, string fileUrl) => RequestFingerprint.Of(appName, prompt, fileUrl);

        /// <summary>
        /// Opens (or creates, 0600 on Unix) the journal and holds its path for this run. Throws JournalException: JournalInUse
        /// (another run holds it), NotAJournal (a file of something else, left unchanged, nothing written beside it),
        /// JournalKeyMismatch, JournalUnreadable (a link planted at the lock path included), JournalWriteFailed (the header).
        /// </summary>
        public static JournalFile Open(string path, string keyProperty)
        {
            RefuseAForeignFile(path);
            var held = LockPath(path);
            FileStream stream;
            try
            {
                UnixFile.CreateOwnerOnly(path); // born 0600; the open below follows a link the user made, as before
                // bufferSize 1: no FileStream buffer, so each line goes to the OS in the one Write that Append makes.
                // Shared for reading and deleting: the lock is on the .lock file (on Unix this takes flock LOCK_SH).
                stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                held.Dispose();
                if (ex is IOException io && JournalHolder.IsLockConflict(io)) throw JournalHolder.InUse(path, ex); // an older version holds the file itself
                throw new JournalException(ErrorIds.JournalUnreadable, "The journal '" + path + "' cannot be opened for writing: " + ex.Message, ex);
            }

            var journal = new JournalFile(path, stream, held);
            try
            {
                journal.Load(keyProperty);
                journal._syncTimer = new Timer(_ => journal.SyncQuietly(), null, SyncInterval, SyncInterval);
                return journal;
            }
            catch (Exception ex)
            {
                stream.Dispose();
                held.Dispose();
                if (ex is JournalException) throw;
                if (ex is IOException || ex is UnauthorizedAccessException)
                    throw new JournalException(ErrorIds.JournalUnreadable, "The journal '" + path + "' cannot be read: " + ex.Message, ex);
                throw;
            }
        }

        /// <summary>
        /// For -WhatIf: the journal's answers, read without the writer lock and without creating or changing any file.
        /// A journal that does not exist yet answers nothing.
        /// </summary>
        public static JournalFile OpenToRead(string path, string keyProperty)
        {
            if (!File.Exists(path)) return new JournalFile(path, null, null);
            FileStream stream;
            try { stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1); }
            catch (IOException ex) when (JournalHolder.IsLockConflict(ex)) { throw JournalHolder.InUse(path, ex); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new JournalException(ErrorIds.JournalUnreadable, "The journal '" + path + "' cannot be read: " + ex.Message, ex);
            }
            var journal = new JournalFile(path, stream, null);
            try
            {
                journal.Load(keyProperty);
                return journal;
            }
            catch (Exception ex)
            {
                stream.Dispose();
                if (ex is IOException || ex is UnauthorizedAccessException)
                    throw new JournalException(ErrorIds.JournalUnreadable, "The journal '" + path + "' cannot be read: " + ex.Message, ex);
                throw;
            }
        }

        private bool Writable => _lock != null;

        /// <summary>A file of something else is refused before the lock file beside it is touched.</summary>
        private static void RefuseAForeignFile(string path)
        {
            FileStream stream;
            try { stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { return; } // missing, or the locked open says why
            using (stream)
                foreach (var first in JournalLines.Read(stream))
                {
                    if (!JournalEntry.TryReadHeader(first.Text.TrimStart('\uFEFF'), out _) && (first.Terminated || !JournalEntry.IsTornHeader(first.Text)))
                        throw NotAJournal(path);
                    return;
                }
        }

        private static PathLock LockPath(string path)
        {
            string lockPath = JournalHolder.SidecarPath(path);
            PathLock held;
            try { held = PathLock.Acquire(lockPath, JournalHolder.Record()); }
            catch (LinkAtLockPathException ex)
            {
                throw new JournalException(ErrorIds.JournalUnreadable, "The journal's lock file '" + lockPath + "' is a symbolic link, so this run did not " +
                    "open it: writing through it could overwrite the file it points to. Remove the link, or give -JournalPath another folder.", ex);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new JournalException(ErrorIds.JournalUnreadable, "The journal's lock file '" + lockPath + "' cannot be opened: " + ex.Message, ex);
            }
            if (held == null) throw JournalHolder.InUse(path, null);
            return held;
        }

        [MethodImpl(FlatJsonObject.Hot)]
        private void Load(string keyProperty)
        {
            if (_stream.Length == 0) { WriteHeader(keyProperty); return; }

            var damaged = new DamagedLines();
            bool endsWithNewline = true;
            foreach (var line in JournalLines.Read(_stream))
            {
                endsWithNewline = line.Terminated;
                if (line.Number == 1) { CheckHeader(line, keyProperty); if (_stream.Length == 0) break; continue; }
                if (line.Text.Length == 0) continue;
                if (!JournalEntry.TryParse(line.Text, out Response entry, out RequestFingerprint.Packed fingerprint)) { damaged.Add(line); continue; }
                if (HoldsAnswer(entry)) _answered.Record(entry.RowKey, fingerprint, line.Offset, line.ByteLength); // the newest success of each request wins
            }
            if (_stream.Length == 0) { _stream.Seek(0, SeekOrigin.Begin); WriteHeader(keyProperty); return; } // a torn header, rewritten
            _stream.Seek(0, SeekOrigin.End);
            if (!endsWithNewline && Writable) _stream.WriteByte((byte)'\n'); // end the torn line so the next entry starts clean
            string warning = damaged.Warning(Path);
            if (warning != null) Warnings = new[] { warning };
        }

        /// <summary>Refuses a file that is not a journal, or one keyed differently; truncates a torn header (to be rewritten).</summary>
        private void CheckHeader(JournalLine first, string keyProperty)
        {
            if (JournalEntry.TryReadHeader(first.Text.TrimStart('\uFEFF'), out string journalKey)) // a BOM from an editor is not damage
            {
                if (!string.Equals(journalKey, keyProperty, StringComparison.OrdinalIgnoreCase))
                    throw new JournalException(ErrorIds.JournalKeyMismatch,
                        "The journal '" + Path + "' was written with " + Describe(journalKey) + " but this run uses " + Describe(keyProperty) +
                        ". Its rows would not match; run with the same -KeyProperty, or give a new -JournalPath.");
                return;
            }
            if (!first.Terminated && JournalEntry.IsTornHeader(first.Text))
            {
                if (Writable) _stream.SetLength(0);
                Warnings = new[] { "Journal '" + Path + "' held only a header cut off while it was being created; the header was rewritten." };
                return;
            }
            throw NotAJournal(Path);
        }

        private static JournalException NotAJournal(string path) => new JournalException(ErrorIds.NotAJournal,
            "The file '" + path + "' is not a CalStudio journal (its first line is not a journal header), so it was left unchanged. " +
            "Give -JournalPath a new file name or an existing journal.");

        /// <summary>
        /// Whether the journal already answers this request. Answered: <paramref name="earlier"/> is that answer (FromJournal).
        /// Thread-safe.
        /// </summary>
        public JournalMatch Lookup(string rowKey, string fingerprint, out Response earlier)
        {
            earlier = null;
            lock (_gate)
            {
                if (_stream == null) return JournalMatch.None;
                if (!RequestFingerprint.TryPack(fingerprint, out RequestFingerprint.Packed packed))
                    return _answered.HasKey(rowKey) ? JournalMatch.Superseded : JournalMatch.None;
                var match = _answered.Find(rowKey, packed, out AnswerLine answer);
                if (match != JournalMatch.Answered) return match;
                earlier = ReadBack(answer);
                return earlier == null ? JournalMatch.None : JournalMatch.Answered;
            }
        }

        /// <summary>
        /// Thread-safe; failures are written too (for the record) but never answer a row. Handed to the OS when this returns,
        /// on the disk within about a second. Throws JournalException JournalWriteFailed when the line cannot be kept.
        /// </summary>
        public void Append(Response response) => Append(response, Fingerprint(response.AppName, response.Prompt, response.FileUrl));

        /// <summary>As <see cref="Append(Response)"/>, with the fingerprint the caller already has (a batch computes it once per row).</summary>
        public void Append(Response response, string fingerprint)
        {
            byte[] bytes = Utf8.GetBytes(JournalEntry.ToLine(response, fingerprint) + "\n");
            lock (_gate)
            {
                if (_stream == null) return; // closed by a stopped pipeline; the row is sent again on resume
                if (_broken != null) throw _broken;
                long offset = _stream.Seek(0, SeekOrigin.End);
                try { _stream.Write(bytes, 0, bytes.Length); }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException)
                {
                    CutBackTo(offset);
                    throw WriteFailed(Path, ex.Message, ex);
                }
                _unsynced = true;
                if (HoldsAnswer(response) && RequestFingerprint.TryPack(fingerprint, out RequestFingerprint.Packed packed))
                    _answered.Record(response.RowKey, packed, offset, bytes.Length - 1);
            }
        }

        /// <summary>Under the gate: the stream is shared with Append, and left at the end for it.</summary>
        private Response ReadBack(AnswerLine answer)
        {
            var bytes = new byte[answer.Length];
            _stream.Seek(answer.Offset, SeekOrigin.Begin);
            int read = 0, n;
            while (read < bytes.Length && (n = _stream.Read(bytes, read, bytes.Length - read)) > 0) read += n;
            _stream.Seek(0, SeekOrigin.End);
            // Checked at open; a line that no longer parses (edited under us?) answers nothing, so the row is sent again.
            return read == bytes.Length && JournalEntry.TryParse(Utf8.GetString(bytes).TrimEnd('\r'), out Response entry, out _) ? entry : null;
        }

        /// <summary>
        /// An entry that holds an answer the app gave: a success, or one -ResponseFormat Json gave up on (AnswerNotValid,
        /// its raw message kept). Lookup offers both; the batch's answer stage decides whether it still answers the row.
        /// </summary>
        private static bool HoldsAnswer(Response entry) => entry.Success || entry.ErrorId == ErrorIds.AnswerNotValid;


        /// <summary>A new journal's first line; a read-only journal writes nothing. A full disk here is JournalWriteFailed, before anything is sent.</summary>
        private void WriteHeader(string keyProperty)
        {
            if (!Writable) return;
            byte[] bytes = Utf8.GetBytes(JournalEntry.Header(keyProperty) + "\n");
            try
            {
                _stream.Write(bytes, 0, bytes.Length);
                _stream.Flush(true);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException)
            {
                CutBackTo(0);
                throw WriteFailed(Path, ex.Message, ex);
            }
        }

        private static string Describe(string keyProperty) =>
            keyProperty == null ? "no -KeyProperty (rows keyed by a hash of AppName, Prompt and FileUrl)" : "-KeyProperty '" + keyProperty + "'";

        /// <summary>Puts the lines on the disk, closes the journal, then deletes the lock file while still holding it and releases it.</summary>
        public void Dispose()
        {
            _syncTimer?.Dispose();
            lock (_gate)
            {
                if (_stream == null) { _lock?.Dispose(); return; }
                try { if (Writable) _stream.Flush(true); } catch (Exception ex) when (ex is IOException || ex is NotSupportedException) { }
                _stream.Dispose();
                _stream = null;
                _lock?.Dispose();
            }
        }
    }
}
