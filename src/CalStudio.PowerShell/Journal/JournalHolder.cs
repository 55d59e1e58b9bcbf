using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;
using CalStudio.Client;

namespace CalStudio.Journal
{
    /// <summary>
    /// Who holds a journal, in the lock file next to it ("journal.jsonl.lock", held by <see cref="PathLock"/>), which the
    /// OS releases when the holder exits, however it exits. The holder writes its record there through the locked
    /// handle, so a refused run can name it. A lock file left by a killed run blocks nothing and is taken by the next holder.
    /// </summary>
    internal static class JournalHolder
    {
        public static string SidecarPath(string journalPath) => journalPath + ".lock";

        /// <summary>The holder record written into the lock file: who holds it, and a lock id unique to this holder.</summary>
        public static string Record()
        {
            var sb = new StringBuilder("{\"pid\":");
            using (var self = Process.GetCurrentProcess())
            {
                sb.Append(self.Id.ToString(CultureInfo.InvariantCulture)).Append(",\"host\":");
                Json.WriteString(sb, Environment.MachineName);
                sb.Append(",\"processStartedAt\":");
                string started;
                try { started = Iso(self.StartTime.ToUniversalTime()); }
                catch (Exception ex) when (ex is InvalidOperationException || ex is NotSupportedException || ex is System.ComponentModel.Win32Exception) { started = null; }
                if (started == null) sb.Append("null"); else Json.WriteString(sb, started);
            }
            sb.Append(",\"lockedAt\":");
            Json.WriteString(sb, Iso(DateTime.UtcNow));
            sb.Append(",\"lockId\":");
            Json.WriteString(sb, Guid.NewGuid().ToString("N"));
            sb.Append("}\n");
            return sb.ToString();
        }

        public static JournalException InUse(string journalPath, Exception inner)
        {
            return new JournalException(ErrorIds.JournalInUse,
                "The journal '" + journalPath + "' is in use by " + Holder(journalPath) +
                ". One run writes a journal at a time: wait for that run to finish, or give this run another -JournalPath.", inner);
        }

        /// <summary>True when opening failed because another handle holds the file (rather than a missing file, a full disk...).</summary>
        public static bool IsLockConflict(IOException ex)
        {
            if (ex is FileNotFoundException || ex is DirectoryNotFoundException || ex is PathTooLongException) return false;
            int code = ex.HResult & 0xFFFF;
            // Windows: ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION. Unix .NET: EWOULDBLOCK from flock, as errno (Linux 11, macOS 35).
            return code == 32 || code == 33 || ex.HResult == 11 || ex.HResult == 35;
        }

        private static string Holder(string journalPath)
        {
            // The holder writes the sidecar just after taking the lock; a run refused in between waits for it briefly.
            for (int attempt = 0; attempt < SidecarAttempts; attempt++)
            {
                if (attempt > 0) System.Threading.Thread.Sleep(SidecarRetryMs);
                string holder = ReadSidecar(journalPath);
                if (holder != null) return holder;
            }
            return "another run (its identity is unknown: no readable " + Path.GetFileName(SidecarPath(journalPath)) + " beside it)";
        }

        private const int SidecarAttempts = 10, SidecarRetryMs = 50;

        private static string ReadSidecar(string journalPath)
        {
            try
            {
                string text = PathLock.ReadRecord(SidecarPath(journalPath)); // never through a link, never blocked by the holder's lock
                if (text != null && Json.TryParse(text.Trim(), out object parsed) && parsed is Dictionary<string, object> o && o.TryGetValue("pid", out object pid) && pid is double)
                {
                    var sb = new StringBuilder("process ").Append(((double)pid).ToString(CultureInfo.InvariantCulture));
                    if (o.TryGetValue("host", out object host) && host is string h) sb.Append(" on host '").Append(h).Append('\'');
                    if (o.TryGetValue("processStartedAt", out object started) && started is string s) sb.Append(" (started ").Append(s);
                    if (o.TryGetValue("lockedAt", out object locked) && locked is string l) sb.Append(started is string ? ", " : " (").Append("holding the journal since ").Append(l);
                    if (started is string || locked is string) sb.Append(')');
                    return sb.ToString();
                }
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
            return null;
        }

        private static string Iso(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
    }
}
