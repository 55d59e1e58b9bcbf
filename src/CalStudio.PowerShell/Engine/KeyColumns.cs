using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using CalStudio.Client;

namespace CalStudio.Engine
{
    /// <summary>
    /// The -KeyProperty columns: one (such as Id) or several (TicketId, AppName: one ticket sent to two apps). A row's
    /// key is what pairs it with its journal entry. One column keeps its journal form "key:" and the value, as journals
    /// have always held it; several are "key:" and a JSON array of their values, so no value can run into the next
    /// however many commas or quotes it holds.
    /// </summary>
    internal sealed class KeyColumns
    {
        private KeyColumns(string[] names) { Names = names; }

        public IReadOnlyList<string> Names { get; }

        public bool IsComposite => Names.Count > 1;

        /// <summary>Null when no -KeyProperty was given.</summary>
        public static KeyColumns From(string[] names) => names == null || names.Length == 0 ? null : new KeyColumns((string[])names.Clone());

        /// <summary>How the journal's header and messages name the key: "Id", or "TicketId, AppName".</summary>
        public string JournalName => string.Join(", ", Names);

        /// <summary>
        /// The row's key from its column values (null for a value the row lacks): <paramref name="keyValue"/> for display
        /// and the Key property, <paramref name="rowKey"/> for the journal. Both null when the key is blank: for several
        /// columns only when every one is blank, since a partly blank key (a ticket with no sub-item) still tells rows apart.
        /// </summary>
        public void Compose(IReadOnlyList<string> values, out string keyValue, out string rowKey)
        {
            if (!IsComposite)
            {
                keyValue = values[0];
                rowKey = keyValue == null ? null : JournalPrefix + keyValue;
                return;
            }
            if (values.All(string.IsNullOrWhiteSpace)) { keyValue = null; rowKey = null; return; }
            keyValue = string.Join(", ", values.Select(v => v ?? ""));
            var sb = new StringBuilder(JournalPrefix).Append('[');
            for (int i = 0; i < values.Count; i++)
            {
                if (i > 0) sb.Append(',');
                Json.WriteString(sb, values[i] ?? "");
            }
            rowKey = sb.Append(']').ToString();
        }

        private const string JournalPrefix = Journal.JournalEntry.KeyPrefix;
    }
}
