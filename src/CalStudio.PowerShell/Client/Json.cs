using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace CalStudio.Client
{
    /// <summary>
    /// A small, strict JSON reader (RFC 8259) and string writer. The module ships no JSON library so that it never
    /// conflicts with the Newtonsoft.Json or System.Text.Json that PowerShell itself loads.
    /// Values: Dictionary&lt;string, object&gt;, List&lt;object&gt;, string, double, bool, null.
    /// <para>Decisions where RFC 8259 leaves a choice (section 4, 6, 8.2, 9):</para>
    /// <list type="bullet">
    /// <item>Duplicate member names: the last one wins (as in most parsers); callers read the object by name.</item>
    /// <item>Numbers follow the grammar exactly (no leading zeros, '+', '.5', '1.', '1e', NaN, Infinity) and become a
    /// double. A number beyond double's range (1e400) is refused as invalid, so no caller ever sees a non-finite value;
    /// one too small for it (1e-400) becomes 0. An integer beyond 2^53 loses precision, as in JavaScript.</item>
    /// <item>A \u escape of a UTF-16 surrogate must be a high one followed by a \u escape of a low one; a lone or
    /// reversed one is refused. Characters that are not escaped are taken as they are: the text has already been
    /// decoded (a UTF-8 decoder turns invalid bytes into U+FFFD), so whatever <see cref="WriteString"/> writes reads back
    /// as the same string.</item>
    /// <item>Nesting deeper than 64 arrays or objects is refused (no stack overflow on hostile input).</item>
    /// </list>
    /// The lexical grammar (strings, numbers, literals, whitespace) is <see cref="JsonLexer"/>'s, shared with the journal's reader.
    /// </summary>
    internal static class Json
    {
        private const int MaxDepth = 64;

        /// <summary>Parses a whole document; throws FormatException on anything that is not exactly one JSON value.</summary>
        public static object Parse(string text) => Parse(text, null);

        /// <summary>
        /// As <see cref="Parse(string)"/>; a property name equal to one of <paramref name="knownNames"/> (unescaped) is
        /// that very string, not a new one: an answer's keys are mostly its schema's, and rows keep them.
        /// </summary>
        public static object Parse(string text, IReadOnlyList<string> knownNames)
        {
            if (text == null) throw new FormatException("No JSON text.");
            var reader = new Reader(text, knownNames);
            reader.SkipWhitespace();
            object value = reader.ReadValue(0);
            reader.SkipWhitespace();
            if (!reader.AtEnd) throw reader.Error("Unexpected text after the JSON value");
            return value;
        }

        public static bool TryParse(string text, out object value)
        {
            try { value = Parse(text); return true; }
            catch (FormatException) { value = null; return false; }
        }

        /// <summary>Appends a JSON string literal (with quotes) for <paramref name="value"/>.</summary>
        public static void WriteString(StringBuilder sb, string value)
        {
            sb.Append('"');
            foreach (char c in value)
            {
                // Quote, backslash and controls must be escaped; U+2028/2029 are, for JavaScript readers; '/' need not be.
                if (c >= 0x20 && c != '"' && c != '\\' && c != '\u2028' && c != '\u2029') { sb.Append(c); continue; }
                int k = JsonLexer.EscapedCharacters.IndexOf(c);
                if (k >= 0) sb.Append('\\').Append(JsonLexer.EscapeLetters[k]);
                else sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            sb.Append('"');
        }

        private sealed class Reader
        {
            private readonly string _s;
            private readonly IReadOnlyList<string> _names;
            private int _i;

            public Reader(string s, IReadOnlyList<string> names) { _s = s; _names = names; }
            public bool AtEnd => _i >= _s.Length;

            public FormatException Error(string what) =>
                new FormatException(what + " at character " + _i.ToString(CultureInfo.InvariantCulture) + ".");

            private FormatException Error(JsonLexError error) => Error(JsonLexer.Describe(error, _s, _i));

            public void SkipWhitespace() => _i = JsonLexer.SkipWhitespace(_s, _i);

            public object ReadValue(int depth)
            {
                if (depth > MaxDepth) throw Error("JSON nested too deeply");
                if (AtEnd) throw Error("Unexpected end of JSON");
                switch (_s[_i])
                {
                    case '{': return ReadObject(depth);
                    case '[': return ReadArray(depth);
                    default:
                        if (!JsonLexer.TryReadScalar(_s, ref _i, out object value, out JsonLexError error)) throw Error(error);
                        return value;
                }
            }

            private Dictionary<string, object> ReadObject(int depth)
            {
                // Sized for the known names at the top (an answer's object), so it is not grown twice on the way.
                var result = new Dictionary<string, object>(depth == 0 && _names != null ? _names.Count : 0, StringComparer.Ordinal);
                _i++; // {
                SkipWhitespace();
                if (!AtEnd && _s[_i] == '}') { _i++; return result; }
                while (true)
                {
                    SkipWhitespace();
                    if (AtEnd || _s[_i] != '"') throw Error("Expected a property name");
                    string name = depth == 0 ? KnownName() : null;
                    if (name == null && !JsonLexer.TryReadString(_s, ref _i, out name, out JsonLexError error)) throw Error(error);
                    SkipWhitespace();
                    if (AtEnd || _s[_i] != ':') throw Error("Expected ':'");
                    _i++;
                    SkipWhitespace();
                    result[name] = ReadValue(depth + 1); // a repeated name: the last one wins
                    SkipWhitespace();
                    if (AtEnd) throw Error("Unterminated object");
                    if (_s[_i] == ',') { _i++; continue; }
                    if (_s[_i] == '}') { _i++; return result; }
                    throw Error("Expected ',' or '}'");
                }
            }

            /// <summary>At a name's opening quote: a known name spelt without escapes is taken as that string (and read past); else null.</summary>
            private string KnownName()
            {
                if (_names == null) return null;
                for (int k = 0; k < _names.Count; k++)
                {
                    string name = _names[k];
                    int end = _i + 1 + name.Length;
                    if (end < _s.Length && _s[end] == '"' && string.CompareOrdinal(_s, _i + 1, name, 0, name.Length) == 0 && IsPlain(name))
                    {
                        _i = end + 1;
                        return name;
                    }
                }
                return null;
            }

            // A name with a quote, backslash or control character is spelt otherwise in JSON: it is read the long way.
            private static bool IsPlain(string name)
            {
                foreach (char c in name) if (c < 0x20 || c == '"' || c == '\\') return false;
                return true;
            }

            private List<object> ReadArray(int depth)
            {
                var result = new List<object>();
                _i++; // [
                SkipWhitespace();
                if (!AtEnd && _s[_i] == ']') { _i++; return result; }
                while (true)
                {
                    SkipWhitespace();
                    result.Add(ReadValue(depth + 1));
                    SkipWhitespace();
                    if (AtEnd) throw Error("Unterminated array");
                    if (_s[_i] == ',') { _i++; continue; }
                    if (_s[_i] == ']') { _i++; return result; }
                    throw Error("Expected ',' or ']'");
                }
            }
        }
    }
}
