using System;
using System.IO;
using CalStudio.Client;

namespace CalStudio.Journal
{
    /// <summary>
    /// What keeps a journal's lines when the disk does not: a failed write cut back to the last whole line, lines put
    /// on the disk (fsync) about once a second and at every stop, and the path checked to still name this file.
    /// </summary>
    internal sealed partial class JournalFile
    {
        /// <summary>Best effort, under the gate: a torn line is removed, so the journal holds whole lines only.</summary>
        private void CutBackTo(long offset)
        {
            try
            {
                if (_stream.Length > offset) _stream.SetLength(offset);
                _stream.Seek(0, SeekOrigin.End);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException) { }
        }

        /// <summary>
        /// Puts every line written so far on the disk (fsync) and checks that the path still names this file. Called at
        /// every stop; throws JournalWriteFailed when the lines cannot be kept (the file deleted, the volume failing).
        /// </summary>
        public void Sync()
        {
            lock (_gate)
            {
                if (_stream == null || !Writable) return;
                if (_broken != null) throw _broken;
                try { SyncUnderGate(); }
                catch (JournalException ex) { _broken = ex; throw; }
            }
        }

        /// <summary>The timer's group sync: a failure is kept, and the next Append or Sync raises it.</summary>
        private void SyncQuietly()
        {
            lock (_gate)
            {
                if (_stream == null || _broken != null) return;
                try { SyncUnderGate(); }
                catch (JournalException ex) { _broken = ex; }
            }
        }

        private void SyncUnderGate()
        {
            try
            {
                if (_unsynced) _stream.Flush(true);
                _unsynced = false;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException)
            {
                throw WriteFailed(Path, ex.Message, ex);
            }
            if (!PathNamesThisFile())
                throw WriteFailed(Path, "the file was deleted or replaced while this run was writing it", null);
        }

        /// <summary>Only this run writes the journal, so another file, or none, at the path means ours was deleted or replaced.</summary>
        private bool PathNamesThisFile()
        {
            try
            {
                var onDisk = new FileInfo(Path);
                return onDisk.Exists && onDisk.Length == _stream.Length;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { return false; }
        }

        internal static JournalException WriteFailed(string path, string cause, Exception inner) => new JournalException(ErrorIds.JournalWriteFailed,
            "The journal '" + path + "' cannot be written: " + cause.TrimEnd('.') + ". The batch stopped: no new request was sent, and the " +
            "answers already received were written to the pipeline. Free space or fix the folder, then run the same command again: " +
            "it sends only the rows the journal does not hold.", inner);
    }
}
