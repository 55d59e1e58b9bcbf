using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace CalStudio.Answers
{
    /// <summary>
    /// Checks a parsed answer against a <see cref="ResponseSchema"/> and says what is wrong in plain words, one
    /// sentence per fault ("priority: 7 is above the maximum 5"), so the same text can go into a re-ask and into the
    /// AnswerNotValid record. Values are the module's JSON reader's: Dictionary, List, string, double, bool, null.
    /// </summary>
    internal static class SchemaValidator
    {
        private const int MaxErrors = 10; // a re-ask with a hundred complaints helps no model
        private static readonly string[] None = new string[0];

        /// <summary>The faults, or an empty list: a valid answer (the usual case) allocates nothing here.</summary>
        public static IReadOnlyList<string> Validate(object value, ResponseSchema schema)
        {
            List<string> errors = null;
            Check(value, schema, new Path("(root)"), ref errors);
            if (errors == null) return None;
            return errors.Count > MaxErrors ? errors.Take(MaxErrors).Concat(new[] { (errors.Count - MaxErrors) + " more" }).ToList() : errors;
        }

        /// <summary>
        /// Where a value is, written out only for an error: an array item's path ("tags[0]") would otherwise be a new
        /// string per item of every valid answer.
        /// </summary>
        private readonly struct Path
        {
            private readonly string _parent;
            private readonly string _name;
            private readonly int _index;

            public Path(string root) { _parent = null; _name = root; _index = -1; }
            private Path(string parent, string name, int index) { _parent = parent; _name = name; _index = index; }

            public Path Child(string name) => new Path(ToString(), name, -1);
            public Path Item(int index) => new Path(ToString(), null, index);

            public override string ToString() =>
                _parent == null ? _name
                : _index >= 0 ? _parent + "[" + _index.ToString(CultureInfo.InvariantCulture) + "]"
                : ResponseSchema.Child(_parent, _name);
        }

        private static void Add(ref List<string> errors, string error) => (errors ?? (errors = new List<string>())).Add(error);

        private static void Check(object value, ResponseSchema s, Path path, ref List<string> errors)
        {
            if (s.Types != null && !IsAnyOf(value, s.Types))
            {
                Add(ref errors, Where(path) + Show(value) + " is not " + string.Join(" or ", s.Types.Select(Article)));
                return; // the other checks would only repeat the same fault
            }
            if (s.Enum != null && !IsOneOf(value, s.Enum))
                Add(ref errors, Where(path) + Show(value) + " is not one of " + string.Join(", ", s.Enum.Select(e => e is string text ? text : Show(e))));
            switch (value)
            {
                case double d: CheckNumber(d, s, path, ref errors); break;
                case string text: CheckString(text, s, path, ref errors); break;
                case List<object> list when s.Items != null:
                    for (int i = 0; i < list.Count; i++) Check(list[i], s.Items, path.Item(i), ref errors);
                    break;
                case Dictionary<string, object> o: CheckObject(o, s, path, ref errors); break;
            }
        }

        private static void CheckNumber(double d, ResponseSchema s, Path path, ref List<string> errors)
        {
            if (s.Minimum.HasValue && d < s.Minimum.Value) Add(ref errors, Where(path) + Show(d) + " is below the minimum " + Show(s.Minimum.Value));
            if (s.Maximum.HasValue && d > s.Maximum.Value) Add(ref errors, Where(path) + Show(d) + " is above the maximum " + Show(s.Maximum.Value));
        }

        private static void CheckString(string text, ResponseSchema s, Path path, ref List<string> errors)
        {
            if (s.MinLength.HasValue || s.MaxLength.HasValue) CheckLength(text, s, path, ref errors);
            if (s.Pattern == null) return;
            bool matches;
            try { matches = s.Pattern.IsMatch(text); }
            catch (RegexMatchTimeoutException) { matches = false; }
            if (!matches) Add(ref errors, Where(path) + Show(text) + " does not match the pattern " + s.Pattern);
        }

        private static void CheckLength(string text, ResponseSchema s, Path path, ref List<string> errors)
        {
            // A text element is one UTF-16 unit or more, so a text no longer than the maximum in units is within it,
            // and a minimum of 0 or 1 is met by any text that is not empty: then the elements need not be counted.
            bool withinMax = !s.MaxLength.HasValue || text.Length <= s.MaxLength.Value;
            bool withinMin = !s.MinLength.HasValue || s.MinLength.Value == 0 || (s.MinLength.Value == 1 && text.Length > 0);
            if (withinMax && withinMin) return;
            int length = new StringInfo(text).LengthInTextElements; // what a reader counts as characters, not UTF-16 units
            if (s.MinLength.HasValue && length < s.MinLength.Value) Add(ref errors, Where(path) + "is " + length + " characters long, shorter than the minimum " + s.MinLength.Value);
            if (s.MaxLength.HasValue && length > s.MaxLength.Value) Add(ref errors, Where(path) + "is " + length + " characters long, longer than the maximum " + s.MaxLength.Value);
        }

        private static void CheckObject(Dictionary<string, object> o, ResponseSchema s, Path path, ref List<string> errors)
        {
            var required = s.Required;
            for (int i = 0; i < required.Count; i++)
                if (!o.ContainsKey(required[i])) Add(ref errors, path.Child(required[i]) + ": is missing (it is required)");
            var known = s.Properties;
            int count = known?.Count ?? 0;
            for (int i = 0; i < count; i++)
                if (o.TryGetValue(known[i].Key, out object child)) Check(child, known[i].Value, path.Child(known[i].Key), ref errors);
            if (s.AdditionalProperties) return;
            foreach (string name in o.Keys)
                if (!IsKnown(name, known)) Add(ref errors, path.Child(name) + ": is not an allowed property");
        }

        private static bool IsKnown(string name, IReadOnlyList<KeyValuePair<string, ResponseSchema>> known)
        {
            for (int i = 0; known != null && i < known.Count; i++) if (known[i].Key == name) return true;
            return false;
        }

        // Index loops, not Any(lambda): a closure and an enumerator per value checked were a third of this class's cost per row.
        private static bool IsAnyOf(object value, IReadOnlyList<string> types)
        {
            for (int i = 0; i < types.Count; i++) if (IsType(value, types[i])) return true;
            return false;
        }

        private static bool IsOneOf(object value, IReadOnlyList<object> allowed)
        {
            for (int i = 0; i < allowed.Count; i++) if (JsonEquals(allowed[i], value)) return true;
            return false;
        }

        private static bool IsType(object value, string type)
        {
            switch (type)
            {
                case "object": return value is Dictionary<string, object>;
                case "array": return value is List<object>;
                case "string": return value is string;
                case "number": return value is double;
                case "integer": return value is double d && Math.Floor(d) == d;
                case "boolean": return value is bool;
                case "null": return value == null;
                default: return false;
            }
        }

        private static string Article(string type) => type == "integer" || type == "object" || type == "array" ? "an " + type : type == "null" ? "null" : "a " + type;

        private static bool JsonEquals(object a, object b)
        {
            if (a == null || b == null) return a == null && b == null;
            if (a is double x && b is double y) return x == y;
            if (a is string || a is bool) return a.Equals(b);
            return CompactJson.Write(a) == CompactJson.Write(b);
        }

        private static string Where(Path path)
        {
            string at = path.ToString();
            return at == "(root)" ? "the answer " : at + ": ";
        }

        /// <summary>A value as the errors quote it: strings in single quotes, cut short; the rest as compact JSON.</summary>
        internal static string Show(object value)
        {
            if (value is string text) return "'" + (text.Length > 60 ? text.Substring(0, 60) + "…" : text) + "'";
            string json = CompactJson.Write(value);
            return json.Length > 60 ? json.Substring(0, 60) + "…" : json;
        }
    }
}
