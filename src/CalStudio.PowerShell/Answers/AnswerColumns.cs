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
        /// <summary>The output's type name: no view of its own, so the per-object default display set (the answer's columns) is what tables show.</summary>
        public const string TypeName = "CalStudio.Response#Json";
        private const double MaxExactInteger = 9007199254740992; // 2^53

        private readonly HashSet<string> _renamed = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        private readonly List<string> _pending = new List<string>();

        public void Add(PSObject output, Response response)
        {
            var fields = response.AnswerFields;
            if (fields == null) return;
            var shown = new List<string> { response.Key != null ? "Key" : "RowNumber" };
            foreach (var field in fields)
            {
                string name = ColumnName(field.Key);
                if (output.Properties[name] != null)
                {
                    if (_renamed.Add(name)) _pending.Add(name);
                    name = CollisionPrefix + name;
                    if (output.Properties[name] != null) continue; // "a" and "A" both renamed: the first keeps the column
                }
                output.Properties.Add(new PSNoteProperty(name, Cell(field.Value)));
                shown.Add(name);
            }
            shown.Add(nameof(Response.AnswerFrom));
            output.TypeNames.Clear();
            output.TypeNames.Add(TypeName);
            output.Members.Add(new PSMemberSet("PSStandardMembers", new PSMemberInfo[] { new PSPropertySet("DefaultDisplayPropertySet", shown) }));
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
