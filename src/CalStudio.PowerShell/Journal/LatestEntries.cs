using System;
using System.Collections;
using System.Collections.Generic;

namespace CalStudio.Journal
{
    /// <summary>
    /// What a journal says now: for each row key, only its newest entry among those <c>keep</c> accepts, in file order.
    /// A row answered after a failure is an answer, whatever the fix changed. Streams in two passes: the first keeps
    /// key -> newest line number (one string per key, not per entry), the second parses only the lines that won.
    /// </summary>
    internal static class LatestEntries
    {
        /// <param name="open">Opens the journal once per pass (a reader is forward-only).</param>
        /// <param name="warn">Told, after the entries, of damaged lines (once, from the first pass).</param>
        public static IEnumerable<Response> Read(Func<JournalReader> open, Func<Response, bool> keep, Action<string> warn)
        {
            int last = 0;
            BitArray newest;
            string warning;
            using (var reader = open())
            {
                var lineOfKey = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var entry in reader.NumberedEntries(null))
                {
                    last = entry.Key;
                    if (keep(entry.Value)) lineOfKey[entry.Value.RowKey] = entry.Key;
                }
                warning = reader.Warning;
                newest = new BitArray(last + 1);
                foreach (int line in lineOfKey.Values) newest[line] = true;
            }
            // Lines a running batch appends meanwhile are left to the next read: this one shows the journal as the first pass saw it.
            using (var reader = open())
                foreach (var entry in reader.NumberedEntries(line => line <= last && newest[line]))
                    yield return entry.Value;
            if (warning != null) warn(warning);
        }
    }
}
