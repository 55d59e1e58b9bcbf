using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using CalStudio.Client;

namespace CalStudio.Answers
{
    /// <summary>A -ResponseSchema the module cannot use: bad JSON, a keyword outside the subset, a wrong value.</summary>
    internal sealed class SchemaException : Exception
    {
        public SchemaException(string message) : base(message) { }
    }

    /// <summary>
    /// The JSON Schema subset that describes a flat record: type, properties, required, enum, minimum, maximum,
    /// minLength, maxLength, pattern, items, additionalProperties (true or false). Any other keyword is refused by
    /// name when the batch starts, never ignored: a schema that says more than is checked would pass answers it
    /// should not. $schema, $id, title and description are annotations and change nothing. Immutable once parsed.
    /// </summary>
    internal sealed class ResponseSchema
    {
        internal static readonly string[] Keywords =
            { "type", "properties", "required", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern", "items", "additionalProperties" };
        private static readonly string[] Annotations = { "$schema", "$id", "title", "description" };
        internal static readonly string[] TypeNames = { "object", "array", "string", "number", "integer", "boolean", "null" };
        private static readonly TimeSpan PatternTimeout = TimeSpan.FromMilliseconds(200);

        private ResponseSchema() { }

        public IReadOnlyList<string> Types { get; private set; }
        public IReadOnlyList<KeyValuePair<string, ResponseSchema>> Properties { get; private set; }
        public IReadOnlyList<string> Required { get; private set; } = new string[0];
        public IReadOnlyList<object> Enum { get; private set; }
        public double? Minimum { get; private set; }
        public double? Maximum { get; private set; }
        public int? MinLength { get; private set; }
        public int? MaxLength { get; private set; }
        public Regex Pattern { get; private set; }
        public ResponseSchema Items { get; private set; }
        public bool AdditionalProperties { get; private set; } = true;
        /// <summary>The names in <see cref="Properties"/>, for the reader to reuse (<see cref="Json.Parse(string, IReadOnlyList{string})"/>).</summary>
        public IReadOnlyList<string> PropertyNames { get; private set; } = new string[0];

        /// <summary>A short hash of the schema's text, so a journal knows which schema judged an answer.</summary>
        public string Id { get; private set; }

        /// <summary>Parses the schema's JSON text; throws SchemaException saying what is wrong and where.</summary>
        public static ResponseSchema Parse(string text)
        {
            object root;
            try { root = Json.Parse(text); }
            catch (FormatException ex) { throw new SchemaException("The response schema is not valid JSON: " + ex.Message); }
            var schema = Read(root, "(root)");
            schema.Id = Hash(text.Trim());
            return schema;
        }

        private static ResponseSchema Read(object node, string path)
        {
            if (!(node is Dictionary<string, object> o)) throw Bad(path, "a schema must be a JSON object");
            var unknown = o.Keys.Where(k => !Keywords.Contains(k) && !Annotations.Contains(k)).ToList();
            if (unknown.Count > 0)
                throw new SchemaException("The response schema uses " + (unknown.Count == 1 ? "the keyword " : "the keywords ") +
                    string.Join(", ", unknown.Select(k => "'" + k + "'")) + " at " + path + ", outside the supported subset (" +
                    string.Join(", ", Keywords) + "). It is refused rather than ignored, so no answer passes a check that was not made.");

            var s = new ResponseSchema();
            foreach (var pair in o)
            {
                object v = pair.Value;
                switch (pair.Key)
                {
                    case "type": s.Types = ReadTypes(v, path); break;
                    case "properties":
                        if (!(v is Dictionary<string, object> props)) throw Bad(path, "'properties' must be an object");
                        s.Properties = props.Select(p => new KeyValuePair<string, ResponseSchema>(p.Key, Read(p.Value, Child(path, p.Key)))).ToList();
                        s.PropertyNames = props.Keys.ToArray();
                        break;
                    case "required":
                        if (!(v is List<object> req) || req.Any(r => !(r is string))) throw Bad(path, "'required' must be an array of names");
                        s.Required = req.Cast<string>().ToList();
                        break;
                    case "enum":
                        if (!(v is List<object> values) || values.Count == 0) throw Bad(path, "'enum' must be a non-empty array");
                        s.Enum = values;
                        break;
                    case "minimum": s.Minimum = Number(v, path, "minimum"); break;
                    case "maximum": s.Maximum = Number(v, path, "maximum"); break;
                    case "minLength": s.MinLength = Count(v, path, "minLength"); break;
                    case "maxLength": s.MaxLength = Count(v, path, "maxLength"); break;
                    case "pattern": s.Pattern = ReadPattern(v, path); break;
                    case "items": s.Items = Read(v, path + "[]"); break;
                    case "additionalProperties":
                        if (!(v is bool allowed)) throw Bad(path, "'additionalProperties' must be true or false (a schema for extra properties is outside the subset)");
                        s.AdditionalProperties = allowed;
                        break;
                }
            }
            return s;
        }

        private static IReadOnlyList<string> ReadTypes(object v, string path)
        {
            var names = v is string one ? new List<object> { one } : v as List<object>;
            if (names == null || names.Count == 0 || names.Any(n => !(n is string t) || !TypeNames.Contains(t)))
                throw Bad(path, "'type' must be one of " + string.Join(", ", TypeNames) + ", or an array of them");
            return names.Cast<string>().ToList();
        }

        private static Regex ReadPattern(object v, string path)
        {
            if (!(v is string pattern)) throw Bad(path, "'pattern' must be a string");
            try { return new Regex(pattern, RegexOptions.CultureInvariant, PatternTimeout); }
            catch (ArgumentException ex) { throw Bad(path, "'pattern' is not a valid regular expression: " + ex.Message); }
        }

        private static double Number(object v, string path, string name) =>
            v is double d ? d : throw Bad(path, "'" + name + "' must be a number");

        private static int Count(object v, string path, string name) =>
            v is double d && d >= 0 && d <= int.MaxValue && Math.Floor(d) == d ? (int)d : throw Bad(path, "'" + name + "' must be a whole number, 0 or more");

        internal static string Child(string path, string name) => path == "(root)" ? name : path + "." + name;

        private static SchemaException Bad(string path, string what) => new SchemaException("The response schema is not usable at " + path + ": " + what + ".");

        private static string Hash(string text)
        {
            using (var sha = SHA256.Create())
            {
                byte[] digest = sha.ComputeHash(Encoding.UTF8.GetBytes(text));
                var sb = new StringBuilder(16);
                for (int i = 0; i < 8; i++) sb.Append(digest[i].ToString("x2", CultureInfo.InvariantCulture));
                return sb.ToString();
            }
        }
    }
}
