using System;
using System.Collections.Generic;
using System.IO;
using CalStudio.Client;

namespace CalStudio.Journal
{
    /// <summary>
    /// Reads a journal's entries one at a time, oldest first, for Get-CalStudioResponse: memory stays flat however long
    /// the journal. Damaged lines are skipped and reported once, in <see cref="Warning"/>, after the entries.
    /// </summary>
    internal sealed class JournalReader : IDisposable
    {
        private readonly FileStream _stream;
        private readonly IEnumerator<JournalLine> _lines;
        private readonly DamagedLines _damaged = new DamagedLines();

        private JournalReader(string path, FileStream stream)
        {
            Path = path;
            _stream = stream;
            _lines = JournalLines.Read(stream).GetEnumerator();
        }

        public string Path { get; }
        public string KeyProperty { get; private set; }

        /// <summary>After the entries have been read: one warning for all damaged lines, or null.</summary>
        public string Warning => _damaged.Warning(Path);

        /// <summary>Throws JournalException: JournalUnreadable (missing or unreadable), JournalInUse (a run holds it), NotAJournal.</summary>
        public static JournalReader Open(string path)
        {
            if (!File.Exists(path)) throw new JournalException(ErrorIds.JournalUnreadable, "There is no journal at '" + path + "'.");
            FileStream stream;
            try { stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1); }
            catch (IOException ex) when (JournalHolder.IsLockConflict(ex)) { throw JournalHolder.InUse(path, ex); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new JournalException(ErrorIds.JournalUnreadable, "The journal '" + path + "' cannot be read: " + ex.Message, ex);
            }
            var reader = new JournalReader(path, stream);
            try
            {
                reader.ReadHeader();
                return reader;
            }
            catch
            {
                reader.Dispose();
                throw;
            }
        }

        private void ReadHeader()
        {
            if (!Next(out JournalLine first)) return; // empty: a journal with no entries yet
            if (JournalEntry.TryReadHeader(first.Text.TrimStart('\uFEFF'), out string keyProperty)) { KeyProperty = keyProperty; return; }
            if (!first.Terminated && JournalEntry.IsTornHeader(first.Text)) return;
            throw new JournalException(ErrorIds.NotAJournal, "The file '" + Path + "' is not a CalStudio journal (its first line is not a journal header).");
        }

        /// <summary>Each whole entry in file order (superseded and failed ones included: this is the record).</summary>
        public IEnumerable<Response> Entries()
        {
            foreach (var numbered in NumberedEntries(null)) yield return numbered.Value;
        }

        /// <summary>
        /// Each whole entry with its line number (the key), in file order. <paramref name="wanted"/>, when given, says
        /// by line number which lines to parse at all: a second pass over half a million lines parses only those it shows.
        /// </summary>
        public IEnumerable<KeyValuePair<int, Response>> NumberedEntries(Func<int, bool> wanted)
        {
            while (Next(out JournalLine line))
            {
                if (line.Text.Length == 0 || (wanted != null && !wanted(line.Number))) continue;
                if (JournalEntry.TryParse(line.Text, out Response entry, out _)) yield return new KeyValuePair<int, Response>(line.Number, entry);
                else _damaged.Add(line);
            }
        }

        private bool Next(out JournalLine line)
        {
            try
            {
                bool more = _lines.MoveNext();
                line = more ? _lines.Current : default(JournalLine);
                return more;
            }
            catch (IOException ex)
            {
                throw new JournalException(ErrorIds.JournalUnreadable, "The journal '" + Path + "' cannot be read: " + ex.Message, ex);
            }
        }

        public void Dispose()
        {
            _lines.Dispose();
            _stream.Dispose();
        }
    }
}
