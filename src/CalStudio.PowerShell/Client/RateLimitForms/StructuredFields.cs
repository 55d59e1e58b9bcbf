using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace CalStudio.Client.RateLimitForms
{
    /// <summary>One member of a structured-field list or dictionary: `key=value;p=1` or `"name";p=1`.</summary>
    internal sealed class FieldMember
    {
        public FieldMember(string key, string value, IReadOnlyDictionary<string, string> parameters)
        {
            Key = key; Value = value; Parameters = parameters;
        }

        /// <summary>The dictionary key (lower case), or null for a list item.</summary>
        public string Key { get; }
        /// <summary>The item or the dictionary value, unquoted.</summary>
        public string Value { get; }
        public IReadOnlyDictionary<string, string> Parameters { get; }

        public int? Parameter(string name) => Parameters.TryGetValue(name, out string v) ? StructuredFields.Number(v) : null;
    }

    /// <summary>
    /// A tolerant reader of the RFC 8941 lists and dictionaries the IETF RateLimit headers use: members split at
    /// commas, parameters at semicolons, quoted strings kept whole. It never throws; what it cannot read, it leaves out.
    /// </summary>
    internal static class StructuredFields
    {
        public static IReadOnlyList<FieldMember> Parse(string header)
        {
            var members = new List<FieldMember>();
            if (string.IsNullOrWhiteSpace(header) || header.Length > 4096) return members;
            foreach (string member in Split(header, ','))
            {
                var segments = Split(member, ';');
                if (segments.Count == 0 || segments[0].Length == 0) continue;
                var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
                for (int i = 1; i < segments.Count; i++)
                {
                    SplitPair(segments[i], out string name, out string value);
                    if (name.Length > 0 && !parameters.ContainsKey(name)) parameters[name] = value ?? "?1";
                }
                string first = segments[0];
                if (first[0] == '"') members.Add(new FieldMember(null, Unquote(first), parameters));
                else
                {
                    SplitPair(first, out string key, out string value);
                    members.Add(value == null ? new FieldMember(null, key, parameters) : new FieldMember(key, value, parameters));
                }
            }
            return members;
        }

        /// <summary>A non-negative whole number (a decimal is cut to its whole part), or null.</summary>
        public static int? Number(string text)
        {
            if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double v) || v < 0 || v > int.MaxValue) return null;
            return (int)v;
        }

        private static void SplitPair(string text, out string name, out string value)
        {
            int eq = text.IndexOf('=');
            name = (eq < 0 ? text : text.Substring(0, eq)).Trim().ToLowerInvariant();
            value = eq < 0 ? null : Unquote(text.Substring(eq + 1).Trim());
        }

        private static string Unquote(string text)
        {
            if (text.Length < 2 || text[0] != '"' || text[text.Length - 1] != '"') return text;
            return text.Substring(1, text.Length - 2).Replace("\\\"", "\"").Replace("\\\\", "\\");
        }

        /// <summary>Splits at <paramref name="separator"/> outside quoted strings; each part trimmed.</summary>
        private static List<string> Split(string text, char separator)
        {
            var parts = new List<string>();
            var current = new StringBuilder();
            bool quoted = false;
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (quoted && c == '\\' && i + 1 < text.Length) { current.Append(c).Append(text[++i]); continue; }
                if (c == '"') quoted = !quoted;
                if (c == separator && !quoted) { parts.Add(current.ToString().Trim()); current.Clear(); continue; }
                current.Append(c);
            }
            parts.Add(current.ToString().Trim());
            return parts;
        }
    }
}
