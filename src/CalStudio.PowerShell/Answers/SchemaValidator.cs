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

        public static IReadOnlyList<string> Validate(object value, ResponseSchema schema)
        {
            var errors = new List<string>();
            Check(value, schema, "(root)", errors);
            return errors.Count > MaxErrors ? errors.Take(MaxErrors).Concat(new[] { (errors.Count - MaxErrors) + " more" }).ToList() : errors;
        }

        private static void Check(object value, ResponseSchema s, string path, List<string> errors)
        {
            if (s.Types != null && !IsAnyOf(value, s.Types))
            {
                errors.Add(Where(path) + Show(value) + " is not " + string.Join(" or ", s.Types.Select(Article)));
                return; // the other checks would only repeat the same fault
            }
            if (s.Enum != null && !IsOneOf(value, s.Enum))
                errors.Add(Where(path) + Show(value) + " is not one of " + string.Join(", ", s.Enum.Select(e => e is string text ? text : Show(e))));
            switch (value)
            {
                case double d: CheckNumber(d, s, path, errors); break;
                case string text: CheckString(text, s, path, errors); break;
                case List<object> list when s.Items != null:
                    for (int i = 0; i < list.Count; i++) Check(list[i], s.Items, path + "[" + i.ToString(CultureInfo.InvariantCulture) + "]", errors);
                    break;
                case Dictionary<string, object> o: CheckObject(o, s, path, errors); break;
            }
        }

        private static void CheckNumber(double d, ResponseSchema s, string path, List<string> errors)
        {
            if (s.Minimum.HasValue && d < s.Minimum.Value) errors.Add(Where(path) + Show(d) + " is below the minimum " + Show(s.Minimum.Value));
            if (s.Maximum.HasValue && d > s.Maximum.Value) errors.Add(Where(path) + Show(d) + " is above the maximum " + Show(s.Maximum.Value));
        }

        private static void CheckString(string text, ResponseSchema s, string path, List<string> errors)
        {
            if (s.MinLength.HasValue || s.MaxLength.HasValue) CheckLength(text, s, path, errors);
            if (s.Pattern == null) return;
            bool matches;
            try { matches = s.Pattern.IsMatch(text); }
            catch (RegexMatchTimeoutException) { matches = false; }
            if (!matches) errors.Add(Where(path) + Show(text) + " does not match the pattern " + s.Pattern);
        }

        private static void CheckLength(string text, ResponseSchema s, string path, List<string> errors)
        {
            int length = new StringInfo(text).LengthInTextElements; // what a reader counts as characters, not UTF-16 units
            if (s.MinLength.HasValue && length < s.MinLength.Value) errors.Add(Where(path) + "is " + length + " characters long, shorter than the minimum " + s.MinLength.Value);
            if (s.MaxLength.HasValue && length > s.MaxLength.Value) errors.Add(Where(path) + "is " + length + " characters long, longer than the maximum " + s.MaxLength.Value);
        }

        private static void CheckObject(Dictionary<string, object> o, ResponseSchema s, string path, List<string> errors)
        {
            foreach (string name in s.Required)
                if (!o.ContainsKey(name)) errors.Add(ResponseSchema.Child(path, name) + ": is missing (it is required)");
            var known = s.Properties ?? new KeyValuePair<string, ResponseSchema>[0];
            foreach (var property in known)
                if (o.TryGetValue(property.Key, out object child)) Check(child, property.Value, ResponseSchema.Child(path, property.Key), errors);
            if (s.AdditionalProperties) return;
            foreach (string name in o.Keys)
                if (!known.Any(p => p.Key == name)) errors.Add(ResponseSchema.Child(path, name) + ": is not an allowed property");
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

        private static string Where(string path) => path == "(root)" ? "the answer " : path + ": ";

        /// <summary>A value as the errors quote it: strings in single quotes, cut short; the rest as compact JSON.</summary>
        internal static string Show(object value)
        {
            if (value is string text) return "'" + (text.Length > 60 ? text.Substring(0, 60) + "…" : text) + "'";
            string json = CompactJson.Write(value);
            return json.Length > 60 ? json.Substring(0, 60) + "…" : json;
        }
    }
}
