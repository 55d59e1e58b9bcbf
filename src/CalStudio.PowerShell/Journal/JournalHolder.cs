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
    /// Who holds a journal, in a sidecar file next to it ("journal.jsonl.lock"). The lock itself is the journal opened
    /// with FileShare.None (flock LOCK_EX on Linux and macOS, a share-mode lock on Windows), which the OS releases when
    /// the holder exits, however it exits. The locked journal cannot be read by another run, so the sidecar says who
    /// holds it. It only describes: a sidecar left by a killed run blocks nothing and is overwritten by the next holder.
    /// </summary>
    internal static class JournalHolder
    {
        public static string SidecarPath(string journalPath) => journalPath + ".lock";

        /// <summary>Best effort: a run that cannot write the sidecar still holds the lock.</summary>
        public static void Describe(string journalPath)
        {
            try
            {
                var sb = new StringBuilder("{\"pid\":");
                using (var self = Process.GetCurrentProcess())
                {
                    sb.Append(self.Id.ToString(CultureInfo.InvariantCulture)).Append(",\"host\":");
                    Json.WriteString(sb, Environment.MachineName);
                    sb.Append(",\"processStartedAt\":");
                    Json.WriteString(sb, Iso(self.StartTime.ToUniversalTime()));
                }
                sb.Append(",\"lockedAt\":");
                Json.WriteString(sb, Iso(DateTime.UtcNow));
                sb.Append("}\n");
                File.WriteAllText(SidecarPath(journalPath), sb.ToString(), new UTF8Encoding(false));
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is InvalidOperationException || ex is NotSupportedException) { }
        }

        /// <summary>Called by the holder while it still holds the lock, so it never deletes the next holder's sidecar.</summary>
        public static void Forget(string journalPath)
        {
            try { File.Delete(SidecarPath(journalPath)); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
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
                string text;
                using (var stream = new FileStream(SidecarPath(journalPath), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
                using (var reader = new StreamReader(stream, Encoding.UTF8))
                    text = reader.ReadToEnd();
                if (Json.TryParse(text.Trim(), out object parsed) && parsed is Dictionary<string, object> o && o.TryGetValue("pid", out object pid) && pid is double)
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
