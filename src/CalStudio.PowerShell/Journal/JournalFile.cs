using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using System.Text;
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
        /// <summary>A successful entry for this key and this request: the earlier answer stands.</summary>
        Answered,
        /// <summary>A successful entry for this key but another request (new prompt, app or file): send it again.</summary>
        Superseded,
    }

    /// <summary>
    /// An append-only JSON-lines journal of finished rows, so a rerun sends only what is not yet answered.
    /// One run writes it at a time (an exclusive OS lock held until Dispose). Each line is written whole, one write
    /// and a flush, as the row finishes. Memory holds only key -> (fingerprint, line position) for the last success
    /// of each key; an answer is read back from its line when a row needs it.
    /// </summary>
    internal sealed class JournalFile : IDisposable
    {
        private static readonly UTF8Encoding Utf8 = new UTF8Encoding(false);

        private readonly object _gate = new object();
        private readonly Dictionary<string, Answer> _answered = new Dictionary<string, Answer>(StringComparer.Ordinal);
        private FileStream _stream;
        private bool _describesHolder;

        private struct Answer
        {
            public Answer(RequestFingerprint.Packed fingerprint, long offset, int length) { Fingerprint = fingerprint; Offset = offset; Length = length; }
            public RequestFingerprint.Packed Fingerprint { get; }
            public long Offset { get; }
            public int Length { get; }
        }

        private JournalFile(string path, FileStream stream) { Path = path; _stream = stream; }

        public string Path { get; }
        public IReadOnlyList<string> Warnings { get; private set; } = new string[0];

        /// <summary>The request fingerprint the journal compares; the engine computes a row's with it.</summary>
        public static string Fingerprint(string appName, string prompt, string fileUrl) => RequestFingerprint.Of(appName, prompt, fileUrl);

        /// <summary>
        /// Opens (or creates) the journal and holds it for this run. Throws JournalException: JournalInUse (another run
        /// holds it), NotAJournal (a file of something else, left unchanged), JournalKeyMismatch, JournalUnreadable.
        /// </summary>
        public static JournalFile Open(string path, string keyProperty)
        {
            FileStream stream;
            try
            {
                // bufferSize 1: no FileStream buffer, so each line goes to the OS in the one Write that Append makes.
                stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1);
            }
            catch (IOException ex) when (JournalHolder.IsLockConflict(ex)) { throw JournalHolder.InUse(path, ex); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new JournalException(ErrorIds.JournalUnreadable, "The journal '" + path + "' cannot be opened for writing: " + ex.Message, ex);
            }

            var journal = new JournalFile(path, stream);
            try
            {
                journal.Load(keyProperty);
                return journal;
            }
            catch (Exception ex)
            {
                if (journal._describesHolder) JournalHolder.Forget(path);
                stream.Dispose();
                if (ex is JournalException) throw;
                if (ex is IOException || ex is UnauthorizedAccessException)
                    throw new JournalException(ErrorIds.JournalUnreadable, "The journal '" + path + "' cannot be read: " + ex.Message, ex);
                throw;
            }
        }

        [MethodImpl(FlatJsonObject.Hot)]
        private void Load(string keyProperty)
        {
            if (_stream.Length == 0) { DescribeHolder(); WriteLine(JournalEntry.Header(keyProperty)); return; }

            var damaged = new DamagedLines();
            bool endsWithNewline = true;
            foreach (var line in JournalLines.Read(_stream))
            {
                endsWithNewline = line.Terminated;
                if (line.Number == 1) { CheckHeader(line, keyProperty); DescribeHolder(); if (_stream.Length == 0) break; continue; }
                if (line.Text.Length == 0) continue;
                if (!JournalEntry.TryParse(line.Text, out Response entry, out RequestFingerprint.Packed fingerprint)) { damaged.Add(line); continue; }
                if (HoldsAnswer(entry)) _answered[entry.RowKey] = new Answer(fingerprint, line.Offset, line.ByteLength); // the last answer wins
            }
            if (_stream.Length == 0) { _stream.Seek(0, SeekOrigin.Begin); WriteLine(JournalEntry.Header(keyProperty)); return; } // a torn header, rewritten
            _stream.Seek(0, SeekOrigin.End);
            if (!endsWithNewline) _stream.WriteByte((byte)'\n'); // end the torn line so the next entry starts clean
            string warning = damaged.Warning(Path);
            if (warning != null) Warnings = new[] { warning };
        }

        /// <summary>
        /// Says who holds the journal as soon as it is known to be one (never beside a file we refuse): a run refused
        /// a moment from now reads this to name us.
        /// </summary>
        private void DescribeHolder()
        {
            JournalHolder.Describe(Path);
            _describesHolder = true;
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
                _stream.SetLength(0);
                Warnings = new[] { "Journal '" + Path + "' held only a header cut off while it was being created; the header was rewritten." };
                return;
            }
            throw new JournalException(ErrorIds.NotAJournal,
                "The file '" + Path + "' is not a CalStudio journal (its first line is not a journal header), so it was left unchanged. " +
                "Give -JournalPath a new file name or an existing journal.");
        }

        /// <summary>
        /// Whether the journal already answers this request. Answered: <paramref name="earlier"/> is that answer (FromJournal).
        /// Thread-safe.
        /// </summary>
        public JournalMatch Lookup(string rowKey, string fingerprint, out Response earlier)
        {
            earlier = null;
            lock (_gate)
            {
                if (_stream == null || !_answered.TryGetValue(rowKey, out Answer answer)) return JournalMatch.None;
                if (!RequestFingerprint.TryPack(fingerprint, out RequestFingerprint.Packed packed) || !packed.Equals(answer.Fingerprint))
                    return JournalMatch.Superseded;
                earlier = ReadBack(answer);
                return earlier == null ? JournalMatch.None : JournalMatch.Answered;
            }
        }

        /// <summary>Thread-safe; failures are written too (for the record) but never answer a row. On disk (flushed to the OS) when this returns.</summary>
        public void Append(Response response) => Append(response, Fingerprint(response.AppName, response.Prompt, response.FileUrl));

        /// <summary>As <see cref="Append(Response)"/>, with the fingerprint the caller already has (a batch computes it once per row).</summary>
        public void Append(Response response, string fingerprint)
        {
            byte[] bytes = Utf8.GetBytes(JournalEntry.ToLine(response, fingerprint) + "\n");
            lock (_gate)
            {
                if (_stream == null) return; // closed by a stopped pipeline; the row is sent again on resume
                long offset = _stream.Seek(0, SeekOrigin.End);
                _stream.Write(bytes, 0, bytes.Length);
                _stream.Flush();
                if (HoldsAnswer(response) && RequestFingerprint.TryPack(fingerprint, out RequestFingerprint.Packed packed))
                    _answered[response.RowKey] = new Answer(packed, offset, bytes.Length - 1);
            }
        }

        /// <summary>Under the gate: the stream is shared with Append, and left at the end for it.</summary>
        private Response ReadBack(Answer answer)
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

        private void WriteLine(string line)
        {
            byte[] bytes = Utf8.GetBytes(line + "\n");
            _stream.Write(bytes, 0, bytes.Length);
            _stream.Flush();
        }

        private static string Describe(string keyProperty) =>
            keyProperty == null ? "no -KeyProperty (rows keyed by a hash of AppName, Prompt and FileUrl)" : "-KeyProperty '" + keyProperty + "'";

        /// <summary>Flushes, deletes the sidecar while still holding the lock, then releases the lock.</summary>
        public void Dispose()
        {
            lock (_gate)
            {
                if (_stream == null) return;
                try { _stream.Flush(true); } catch (IOException) { }
                JournalHolder.Forget(Path);
                _stream.Dispose();
                _stream = null;
            }
        }
    }
}
