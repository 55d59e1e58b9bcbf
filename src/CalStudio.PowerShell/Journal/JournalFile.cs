using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using CalStudio.Client;

namespace CalStudio.Journal
{
    /// <summary>Raised when a journal cannot be used for this run; the cmdlet turns it into a terminating error.</summary>
    public sealed class JournalException : Exception
    {
        public JournalException(string errorId, string message, Exception inner = null) : base(message, inner) { ErrorId = errorId; }
        public string ErrorId { get; }
    }

    /// <summary>What a journal says of a row: answered (the same request), answered for another request, or nothing.</summary>
    internal enum JournalMatch { None, Answered, Superseded }

    /// <summary>What reading a journal found.</summary>
    internal sealed class JournalContents
    {
        public string KeyProperty { get; set; }
        public bool HasHeader { get; set; }
        public List<Response> Entries { get; } = new List<Response>();
        public List<string> Warnings { get; } = new List<string>();
    }

    /// <summary>
    /// An append-only JSON-lines journal of finished rows, so a rerun sends only what is not yet answered.
    /// Each line is written whole and flushed as the row finishes; a torn last line (crash, power loss) is
    /// skipped on read with a warning, and earlier lines are never rewritten.
    /// </summary>
    internal sealed class JournalFile : IDisposable
    {
        private readonly object _gate = new object();
        private readonly Dictionary<string, Response> _answered = new Dictionary<string, Response>(StringComparer.Ordinal);
        private FileStream _stream;

        private JournalFile(string path) { Path = path; }

        public string Path { get; }
        public IReadOnlyList<string> Warnings { get; private set; } = new string[0];

        /// <summary>Opens (or creates) the journal for appending, refusing one written with another key.</summary>
        public static JournalFile Open(string path, string keyProperty)
        {
            var journal = new JournalFile(path);
            var contents = File.Exists(path) ? Read(path) : null;
            if (contents != null && contents.HasHeader && !string.Equals(contents.KeyProperty, keyProperty, StringComparison.OrdinalIgnoreCase))
                throw new JournalException(ErrorIds.JournalKeyMismatch,
                    "The journal '" + path + "' was written with " + Describe(contents.KeyProperty) + " but this run uses " + Describe(keyProperty) +
                    ". Its rows would not match; run with the same -KeyProperty, or give a new -JournalPath.");
            if (contents != null)
            {
                journal.Warnings = contents.Warnings;
                foreach (var entry in contents.Entries)
                    if (entry.Success) journal._answered[entry.RowKey] = entry;
            }

            try
            {
                journal._stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 4096);
                bool fresh = journal._stream.Length == 0;
                if (!fresh && !EndsWithNewline(journal._stream))
                {
                    journal._stream.Seek(0, SeekOrigin.End);
                    journal._stream.WriteByte((byte)'\n'); // end the torn line so the next entry starts clean
                }
                journal._stream.Seek(0, SeekOrigin.End);
                if (fresh || contents?.HasHeader == false && contents.Entries.Count == 0)
                    journal.WriteLine(JournalEntry.Header(keyProperty));
            }
            catch (IOException ex)
            {
                journal.Dispose();
                throw new JournalException(ErrorIds.JournalUnreadable, "The journal '" + path + "' cannot be opened for writing: " + ex.Message, ex);
            }
            catch (UnauthorizedAccessException ex)
            {
                journal.Dispose();
                throw new JournalException(ErrorIds.JournalUnreadable, "The journal '" + path + "' cannot be opened for writing: " + ex.Message, ex);
            }
            return journal;
        }

        /// <summary>The earlier successful answer for this row key, if the journal has one.</summary>
        public bool TryGetAnswered(string rowKey, out Response response)
        {
            lock (_gate) return _answered.TryGetValue(rowKey, out response);
        }

        /// <summary>Answered only when the earlier success was for the same request (prompt, app and file URL).</summary>
        public JournalMatch Lookup(string rowKey, string fingerprint, out Response earlier)
        {
            if (!TryGetAnswered(rowKey, out earlier)) return JournalMatch.None;
            if (Engine.RowInput.HashKey(earlier.AppName, earlier.Prompt, earlier.FileUrl) == fingerprint) return JournalMatch.Answered;
            earlier = null;
            return JournalMatch.Superseded;
        }

        /// <summary>Thread-safe; the line is on its way to disk (flushed to the OS) before this returns.</summary>
        public void Append(Response response)
        {
            string line = JournalEntry.ToLine(response);
            lock (_gate)
            {
                if (_stream == null) return; // closed by a stopped pipeline; the row is sent again on resume
                WriteLine(line);
                if (response.Success) _answered[response.RowKey] = response;
            }
        }

        private void WriteLine(string line)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(line + "\n");
            _stream.Write(bytes, 0, bytes.Length);
            _stream.Flush();
        }

        /// <summary>Reads every complete entry; skips torn or foreign lines with a warning.</summary>
        public static JournalContents Read(string path)
        {
            var contents = new JournalContents();
            string[] lines;
            try
            {
                using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
                using (var reader = new StreamReader(stream, new UTF8Encoding(false)))
                    lines = reader.ReadToEnd().Split('\n');
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new JournalException(ErrorIds.JournalUnreadable, "The journal '" + path + "' cannot be read: " + ex.Message, ex);
            }

            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i].TrimEnd('\r');
                if (line.Length == 0) continue;
                if (i == 0 && JournalEntry.TryReadHeader(line, out string keyProperty))
                {
                    contents.HasHeader = true;
                    contents.KeyProperty = keyProperty;
                    continue;
                }
                var entry = JournalEntry.FromLine(line);
                if (entry != null) contents.Entries.Add(entry);
                else contents.Warnings.Add("Journal '" + path + "' line " + (i + 1) + " is incomplete or damaged and was skipped" +
                                           (i == lines.Length - 1 ? " (a run was probably interrupted while writing it)." : "."));
            }
            return contents;
        }

        private static bool EndsWithNewline(FileStream stream)
        {
            stream.Seek(-1, SeekOrigin.End);
            return stream.ReadByte() == '\n';
        }

        private static string Describe(string keyProperty) =>
            keyProperty == null ? "no -KeyProperty (rows keyed by a hash of AppName, Prompt and FileUrl)" : "-KeyProperty '" + keyProperty + "'";

        public void Dispose()
        {
            lock (_gate)
            {
                if (_stream == null) return;
                try { _stream.Flush(true); } catch (IOException) { }
                _stream.Dispose();
                _stream = null;
            }
        }
    }
}
