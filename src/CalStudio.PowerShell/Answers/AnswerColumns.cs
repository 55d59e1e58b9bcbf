using System;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using CalStudio.Client;

namespace CalStudio.Answers
{
    /// <summary>
    /// Turns a JSON answer's top-level properties into properties of the output object, so Export-Csv writes them as
    /// columns beside the user's own and Format-Table shows them. A nested object or array becomes compact JSON text
    /// (one cell); a whole number becomes a long. A name taken by a user column or a Response property is kept as
    /// <see cref="CollisionPrefix"/>Name, with one warning per batch, as input columns get Input_. One per batch.
    /// </summary>
    internal sealed class AnswerColumns
    {
        public const string CollisionPrefix = "Answer_";
        /// <summary>The output's type name, followed by the shown columns: no view of its own, so its default display set (the answer's columns) is what tables show.</summary>
        public const string TypeName = "CalStudio.Response#Json";
        private const double MaxExactInteger = 9007199254740992; // 2^53
        private const int MaxShapeTypes = 50; // answers with ever-new keys get a display set per object instead

        private readonly HashSet<string> _renamed = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        private readonly List<string> _pending = new List<string>();
        // Rows of a batch mostly share their answer's keys: the column names and the display set are made once per shape.
        private readonly Dictionary<string, string> _names = new Dictionary<string, string>(StringComparer.Ordinal);
        private readonly List<string> _shown = new List<string>();
        private readonly List<string> _rowShown = new List<string>();
        private readonly HashSet<string> _rowAdded = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        private readonly Func<string, string[], bool> _defineType;
        private readonly HashSet<string> _definedTypes = new HashSet<string>(StringComparer.OrdinalIgnoreCase); // as PowerShell compares type names
        private string _shapeType; // the last shape's registered type name, or null: it has a per-object display set
        private PSMemberSet _display; // the last shape's display set when it has no registered type

        /// <param name="defineType">
        /// Registers a type name whose default display set is the given columns (Update-TypeData), true if it could.
        /// A registered type costs an object one type name; a per-object display set (the fallback) costs it a member
        /// set copy, three times the CPU of the rest of the columns.
        /// </param>
        public AnswerColumns(Func<string, string[], bool> defineType = null) { _defineType = defineType; }

        /// <param name="taken">Whether the output already has a property of that name (a Response property or an input column).</param>
        public void Add(PSObject output, Response response, Func<string, bool> taken)
        {
            var fields = response.AnswerFields;
            if (fields == null) return;
            // One row at a time (the pipeline thread): the row's lists are reused, not made per row.
            var shown = _rowShown;
            shown.Clear();
            _rowAdded.Clear();
            shown.Add(response.Key != null ? "Key" : "RowNumber");
            for (int i = 0; i < fields.Count; i++)
            {
                var field = fields[i];
                string name = CachedColumnName(field.Key);
                if (Taken(name, taken))
                {
                    if (_renamed.Add(name)) _pending.Add(name);
                    name = CollisionPrefix + name;
                    if (Taken(name, taken)) continue; // "a" and "A" both renamed: the first keeps the column
                }
                _rowAdded.Add(name);
                // Checked above, so PowerShell need not look the name up among the adapted members again.
                output.Properties.Add(new PSNoteProperty(name, Cell(field.Value)), true); // a cell already (the stage made it) stays as it is
                shown.Add(name);
            }
            shown.Add(nameof(Response.AnswerFrom));
            if (!SameShape(shown)) NewShape(shown);
            output.TypeNames.Clear();
            if (_shapeType != null) { output.TypeNames.Add(_shapeType); return; }
            output.TypeNames.Add(TypeName);
            output.Members.Add(_display); // copied into the object's own PSStandardMembers
        }

        private bool Taken(string name, Func<string, bool> taken) => taken(name) || _rowAdded.Contains(name);

        private bool SameShape(List<string> shown)
        {
            if (shown.Count != _shown.Count) return false;
            for (int i = 0; i < shown.Count; i++) if (!string.Equals(shown[i], _shown[i], StringComparison.Ordinal)) return false;
            return true;
        }

        private void NewShape(List<string> shown)
        {
            _shown.Clear();
            _shown.AddRange(shown);
            string[] names = shown.ToArray();
            string type = ShapeTypeName(names);
            bool known = _definedTypes.Contains(type) ||
                         (_defineType != null && _definedTypes.Count < MaxShapeTypes && _defineType(type, names) && _definedTypes.Add(type));
            _shapeType = known ? type : null;
            _display = known ? null : new PSMemberSet("PSStandardMembers", new PSMemberInfo[] { new PSPropertySet("DefaultDisplayPropertySet", names) });
        }

        /// <summary>
        /// TypeName#Col1,Col2,...: a comma or backslash inside a name is escaped, so the answer {"a,b":1} and the answer
        /// {"a":1,"b":2} are two types, not one whose display set the later shape would overwrite.
        /// </summary>
        internal static string ShapeTypeName(IEnumerable<string> columns)
        {
            var text = new System.Text.StringBuilder(TypeName).Append('#');
            bool first = true;
            foreach (string column in columns)
            {
                if (!first) text.Append(',');
                first = false;
                text.Append(column.Replace("\\", "\\\\").Replace(",", "\\,"));
            }
            return text.ToString();
        }

        private string CachedColumnName(string key)
        {
            if (_names.TryGetValue(key, out string name)) return name;
            name = ColumnName(key);
            if (_names.Count < 1000) _names[key] = name; // an answer with ever-new keys must not grow the cache without end
            return name;
        }

        /// <summary>A warning naming the answer properties renamed since the last call, or null: a batch warns once per name.</summary>
        public string TakeRenameWarning()
        {
            if (_pending.Count == 0) return null;
            string text = "The answer's propert" + (_pending.Count == 1 ? "y " : "ies ") + string.Join(", ", _pending) +
                          " share a name with an input column or a property of the response; they are kept as " +
                          string.Join(", ", _pending.ConvertAll(n => CollisionPrefix + n)) + ".";
            _pending.Clear();
            return text;
        }

        /// <summary>The first letter upper-cased, as PowerShell columns are written ("category" becomes Category).</summary>
        internal static string ColumnName(string key)
        {
            if (string.IsNullOrEmpty(key)) return CollisionPrefix;
            return char.ToUpperInvariant(key[0]) + key.Substring(1);
        }

        internal static object Cell(object value)
        {
            switch (value)
            {
                case double d when Math.Floor(d) == d && Math.Abs(d) <= MaxExactInteger: return (long)d;
                case List<object> _:
                case Dictionary<string, object> _: return CompactJson.Write(value);
                default: return value; // string (a date-like one stays a string), double, bool, null
            }
        }

        /// <summary>The AnswerNotValid record's text: the reasons, and the raw answer (shortened) so it can be fixed by hand.</summary>
        internal static string RawAnswerNote(Response failed) =>
            failed.ErrorId == ErrorIds.AnswerNotValid ? " The answer was: " + ResponseParser.Shorten(failed.Message ?? "", 300) : "";

        internal const string NotValidAction =
            "Get-CalStudioResponse -Failed shows each raw answer. Fix those rows by hand, or rerun with a higher -MaxReasks or a changed -ResponseSchema.";
    }
}
