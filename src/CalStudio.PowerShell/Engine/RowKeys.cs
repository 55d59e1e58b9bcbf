using System;
using System.Collections.Generic;
using CalStudio.Client;

namespace CalStudio.Engine
{
    /// <summary>
    /// With -KeyProperty, a row's key is what pairs it with its journal entry, so a key must be present and used once:
    /// an empty or repeated key would hand one row another row's answer on a rerun.
    /// </summary>
    internal sealed class RowKeys
    {
        private readonly bool _keyed;
        private readonly bool _hashWhenUnkeyed;
        private readonly HashSet<string> _seen = new HashSet<string>(StringComparer.Ordinal);

        public RowKeys(bool keyed, bool hashWhenUnkeyed)
        {
            _keyed = keyed;
            _hashWhenUnkeyed = hashWhenUnkeyed;
        }

        /// <summary>Null when the row's key is usable; else why the row is refused.</summary>
        public ApiOutcome Check(RowInput row)
        {
            if (!_keyed) return null;
            if (string.IsNullOrWhiteSpace(row.KeyValue))
                return RowInput.Invalid(ErrorIds.EmptyRowKey, "The row's key column is empty, so its answer could not be told apart from another row's; give every row a unique key.");
            if (!_seen.Add(row.KeyValue))
                return RowInput.Invalid(ErrorIds.DuplicateRowKey, "The key '" + ResponseParser.Shorten(row.KeyValue, 60) + "' was already used by an earlier row of this run; keys must be unique.");
            return null;
        }

        /// <summary>A row refused for its key has no key of its own to journal under: an entry would answer another row.</summary>
        public bool IsJournalable(ApiOutcome refusal) => refusal.ErrorId != ErrorIds.EmptyRowKey && refusal.ErrorId != ErrorIds.DuplicateRowKey;

        /// <summary>The key to show on the response: the -KeyProperty value, or (with a journal) the fingerprint it is kept under.</summary>
        public string DisplayKey(RowInput row) => row.KeyValue != null || _hashWhenUnkeyed ? row.RowKey : null;
    }
}
