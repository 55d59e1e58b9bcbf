using System;
using System.IO;
using System.Text;

namespace CalStudio.Journal
{
    /// <summary>The lock path is a symbolic link (or a Windows reparse point): it is refused, and nothing is written through it.</summary>
    internal sealed class LinkAtLockPathException : IOException
    {
        public LinkAtLockPathException(string path, Exception inner = null)
            : base("'" + path + "' is a symbolic link; a lock file is never opened through a link.", inner) { }
    }

    /// <summary>
    /// An exclusive lock on a path, held in a lock file of its own ("journal.jsonl.lock") so that the locked file is never
    /// the data file: readers of the data are never blocked, and a data file deleted or replaced under its writer still
    /// leaves the path locked. Linux and macOS: the file is opened with O_NOFOLLOW (a planted link is refused, never
    /// followed) and created 0600, then flock LOCK_EX; after locking, the path must still name the locked file (a holder
    /// unlinks it when done, and a run that opened the old file just before must not hold a lock on nothing).
    /// Windows: a reparse point is refused; a share-mode lock, the file deleted by the OS when the holder's handle closes.
    /// The OS releases the lock however the holder exits. The holder's record is written through the locked handle.
    /// </summary>
    internal sealed class PathLock : IDisposable
    {
        private const int Attempts = 20;
        private static readonly UTF8Encoding Utf8 = new UTF8Encoding(false);

        private readonly byte[] _record;
        private FileStream _file;
        private bool _recordWritten;

        private PathLock(string path, FileStream file, string record)
        {
            Path = path;
            _file = file;
            _record = Utf8.GetBytes(record);
        }

        public string Path { get; }

        /// <summary>
        /// Takes the lock and writes <paramref name="record"/> (unique per holder) into it; null when another holder has it.
        /// Throws LinkAtLockPathException for a link at the path, IOException or UnauthorizedAccessException otherwise.
        /// </summary>
        public static PathLock Acquire(string path, string record) => UnixFile.IsUnix ? AcquireUnix(path, record) : AcquireWindows(path, record);

        private static PathLock AcquireUnix(string path, string record)
        {
            for (int attempt = 0; attempt < Attempts; attempt++)
            {
                FileStream file;
                try { file = UnixFile.OpenOwnerOnlyNoFollow(path); }
                catch (UnixFileException ex) when (ex.Errno == UnixFile.TooManyLinks) { throw new LinkAtLockPathException(path, ex); }
                bool locked;
                try { locked = UnixFile.TryLockExclusive(file); }
                catch
                {
                    file.Dispose();
                    throw;
                }
                if (!locked)
                {
                    file.Dispose();
                    return null;
                }
                var held = new PathLock(path, file, record);
                held.WriteRecord();
                // A record that cannot be written (a full disk) cannot be read back to prove the path: hold what was locked.
                if (!held._recordWritten || held.PathNamesHeldFile()) return held;
                file.Dispose(); // the previous holder unlinked this file after it was opened: lock the one the path names now
            }
            throw new IOException("The lock file '" + path + "' kept being replaced while this run tried to lock it.");
        }

        private static PathLock AcquireWindows(string path, string record)
        {
            try
            {
                if ((File.GetAttributes(path) & FileAttributes.ReparsePoint) != 0) throw new LinkAtLockPathException(path);
            }
            catch (FileNotFoundException) { }
            catch (DirectoryNotFoundException) { }
            FileStream file;
            try { file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.DeleteOnClose); }
            catch (IOException ex) when (JournalHolder.IsLockConflict(ex)) { return null; }
            var held = new PathLock(path, file, record);
            held.WriteRecord();
            return held;
        }

        /// <summary>The record a holder wrote, read without taking any lock and without following a link; null if none.</summary>
        public static string ReadRecord(string path)
        {
            try
            {
                using (var file = UnixFile.IsUnix ? UnixFile.TryOpenReadNoFollow(path)
                           : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1))
                {
                    if (file == null) return null;
                    var buffer = new byte[4096];
                    int read = 0, n;
                    while (read < buffer.Length && (n = file.Read(buffer, read, buffer.Length - read)) > 0) read += n;
                    return Utf8.GetString(buffer, 0, read);
                }
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { return null; }
        }

        /// <summary>Best effort: a full disk leaves the file empty, and the lock is held all the same.</summary>
        private void WriteRecord()
        {
            try
            {
                _file.SetLength(0);
                _file.Position = 0;
                _file.Write(_record, 0, _record.Length);
                _file.Flush();
                _recordWritten = true;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException)
            {
                try { _file.SetLength(0); } catch (Exception e) when (e is IOException || e is NotSupportedException) { }
            }
        }

        private bool PathNamesHeldFile()
        {
            string onDisk = ReadRecord(Path);
            return onDisk != null && onDisk == Utf8.GetString(_record);
        }

        /// <summary>Unlinks the lock file while still holding it (only if the path still names it), then releases the lock.</summary>
        public void Dispose()
        {
            var file = _file;
            if (file == null) return;
            _file = null;
            if (UnixFile.IsUnix && _recordWritten && PathNamesHeldFile())
            {
                try { File.Delete(Path); }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
            }
            file.Dispose();
        }
    }
}
