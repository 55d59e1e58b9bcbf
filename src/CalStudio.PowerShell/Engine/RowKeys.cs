using System;
using System.Collections.Generic;
using CalStudio.Client;
using CalStudio.Journal;

namespace CalStudio.Engine
{
    /// <summary>
    /// With -KeyProperty, a row's key is what pairs it with its journal entry, so a key must be present and name one
    /// request: an empty key, or one key for two different requests, would hand one row another row's answer on a rerun.
    /// Rows with the same key and the same request (an export that lists a ticket twice) are one question, asked once.
    /// </summary>
    internal sealed class RowKeys
    {
        private readonly bool _keyed;
        private readonly bool _hashWhenUnkeyed;
        // Key -> the request of its first row: 16 bytes a key, so a 500,000-row input stays small.
        private readonly Dictionary<string, RequestFingerprint.Packed> _seen = new Dictionary<string, RequestFingerprint.Packed>(StringComparer.Ordinal);

        public RowKeys(bool keyed, bool hashWhenUnkeyed)
        {
            _keyed = keyed;
            _hashWhenUnkeyed = hashWhenUnkeyed;
        }

        /// <summary>Null when the row's key is usable; else why the row is refused.</summary>
        public ApiOutcome Check(RowInput row) => Check(row, out _);

        /// <summary>
        /// Null when the row's key is usable; else why the row is refused. <paramref name="repeat"/>: an earlier row of
        /// this run has this key and this same request, so this row takes that row's answer instead of being sent.
        /// </summary>
        public ApiOutcome Check(RowInput row, out bool repeat)
        {
            repeat = false;
            if (!_keyed) return null;
            if (string.IsNullOrWhiteSpace(row.KeyValue))
                return RowInput.Invalid(ErrorIds.EmptyRowKey, "The row's key column is empty, so its answer could not be told apart from another row's; give every row a key.");
            RequestFingerprint.TryPack(row.Fingerprint, out RequestFingerprint.Packed request);
            if (_seen.TryGetValue(row.RowKey, out RequestFingerprint.Packed first))
            {
                if (first.Equals(request)) { repeat = true; return null; }
                return RowInput.Invalid(ErrorIds.DuplicateRowKey, "The key '" + ResponseParser.Shorten(row.KeyValue, 60) +
                    "' was already used by an earlier row of this run with another request (prompt, app or file); one key names one question.");
            }
            _seen.Add(row.RowKey, request);
            return null;
        }

        /// <summary>A row refused for its key has no key of its own to journal under: an entry would answer another row.</summary>
        public bool IsJournalable(ApiOutcome refusal) => refusal.ErrorId != ErrorIds.EmptyRowKey && refusal.ErrorId != ErrorIds.DuplicateRowKey;

        /// <summary>The key to show on the response: the -KeyProperty value, or (with a journal) the fingerprint it is kept under.</summary>
        public string DisplayKey(RowInput row) => row.KeyValue != null || _hashWhenUnkeyed ? row.RowKey : null;
    }
}
