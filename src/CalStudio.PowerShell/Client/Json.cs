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
    /// </summary>
    internal static class Json
    {
        private const int MaxDepth = 64;

        /// <summary>Parses a whole document; throws FormatException on anything that is not exactly one JSON value.</summary>
        public static object Parse(string text)
        {
            if (text == null) throw new FormatException("No JSON text.");
            var reader = new Reader(text);
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
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    case '\b': sb.Append("\\b"); break;
                    case '\f': sb.Append("\\f"); break;
                    default:
                        if (c < 0x20 || c == '\u2028' || c == '\u2029')
                            sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else
                            sb.Append(c);
                        break;
                }
            }
            sb.Append('"');
        }

        private sealed class Reader
        {
            private readonly string _s;
            private int _i;

            public Reader(string s) { _s = s; }
            public bool AtEnd => _i >= _s.Length;

            public FormatException Error(string what) =>
                new FormatException(what + " at character " + _i.ToString(CultureInfo.InvariantCulture) + ".");

            public void SkipWhitespace()
            {
                while (_i < _s.Length && (_s[_i] == ' ' || _s[_i] == '\t' || _s[_i] == '\n' || _s[_i] == '\r')) _i++;
            }

            public object ReadValue(int depth)
            {
                if (depth > MaxDepth) throw Error("JSON nested too deeply");
                if (AtEnd) throw Error("Unexpected end of JSON");
                char c = _s[_i];
                switch (c)
                {
                    case '{': return ReadObject(depth);
                    case '[': return ReadArray(depth);
                    case '"': return ReadString();
                    case 't': Expect("true"); return true;
                    case 'f': Expect("false"); return false;
                    case 'n': Expect("null"); return null;
                    default:
                        if (c == '-' || (c >= '0' && c <= '9')) return ReadNumber();
                        throw Error("Unexpected character '" + c + "'");
                }
            }

            private void Expect(string literal)
            {
                if (string.CompareOrdinal(_s, _i, literal, 0, literal.Length) != 0) throw Error("Invalid literal");
                _i += literal.Length;
            }

            private Dictionary<string, object> ReadObject(int depth)
            {
                var result = new Dictionary<string, object>(StringComparer.Ordinal);
                _i++; // {
                SkipWhitespace();
                if (!AtEnd && _s[_i] == '}') { _i++; return result; }
                while (true)
                {
                    SkipWhitespace();
                    if (AtEnd || _s[_i] != '"') throw Error("Expected a property name");
                    string name = ReadString();
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

            private string ReadString()
            {
                _i++; // opening quote
                // Most strings have no escape: take them in one piece.
                int runStart = _i;
                StringBuilder sb = null;
                while (true)
                {
                    if (AtEnd) throw Error("Unterminated string");
                    char c = _s[_i];
                    if (c == '"')
                    {
                        string tail = _s.Substring(runStart, _i - runStart);
                        _i++;
                        return sb == null ? tail : sb.Append(tail).ToString();
                    }
                    if (c < 0x20) throw Error("Control character in string");
                    if (c != '\\') { _i++; continue; }

                    if (sb == null) sb = new StringBuilder();
                    sb.Append(_s, runStart, _i - runStart);
                    _i++; // backslash
                    if (AtEnd) throw Error("Unterminated escape");
                    char e = _s[_i++];
                    switch (e)
                    {
                        case '"': sb.Append('"'); break;
                        case '\\': sb.Append('\\'); break;
                        case '/': sb.Append('/'); break;
                        case 'b': sb.Append('\b'); break;
                        case 'f': sb.Append('\f'); break;
                        case 'n': sb.Append('\n'); break;
                        case 'r': sb.Append('\r'); break;
                        case 't': sb.Append('\t'); break;
                        case 'u': AppendUnicodeEscape(sb); break;
                        default: _i--; throw Error("Invalid escape '\\" + e + "'");
                    }
                    runStart = _i;
                }
            }

            // After "\u": four hex digits; a surrogate must come as a high-low pair of escapes.
            private void AppendUnicodeEscape(StringBuilder sb)
            {
                char code = ReadHex4();
                if (char.IsLowSurrogate(code)) throw Error("A \\u escape of a low surrogate without a high one before it");
                if (char.IsHighSurrogate(code))
                {
                    if (_i + 2 > _s.Length || _s[_i] != '\\' || _s[_i + 1] != 'u')
                        throw Error("A \\u escape of a high surrogate not followed by a low one");
                    _i += 2;
                    char low = ReadHex4();
                    if (!char.IsLowSurrogate(low)) throw Error("A \\u escape of a high surrogate not followed by a low one");
                    sb.Append(code).Append(low);
                    return;
                }
                sb.Append(code);
            }

            private char ReadHex4()
            {
                if (_i + 4 > _s.Length) throw Error("Short \\u escape");
                int code = 0;
                for (int k = 0; k < 4; k++)
                {
                    int digit = HexValue(_s[_i + k]);
                    if (digit < 0) throw Error("Invalid \\u escape");
                    code = (code << 4) | digit;
                }
                _i += 4;
                return (char)code;
            }

            private static int HexValue(char c)
            {
                if (c >= '0' && c <= '9') return c - '0';
                if (c >= 'a' && c <= 'f') return c - 'a' + 10;
                if (c >= 'A' && c <= 'F') return c - 'A' + 10;
                return -1;
            }

            private bool AtDigit => _i < _s.Length && _s[_i] >= '0' && _s[_i] <= '9';

            // RFC 8259: -? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?
            private double ReadNumber()
            {
                int start = _i;
                bool negative = _s[_i] == '-';
                if (negative) _i++;
                if (!AtDigit) throw Error("Invalid number: a digit must follow '-'");
                if (_s[_i] == '0')
                {
                    _i++;
                    if (AtDigit) throw Error("Invalid number: leading zero");
                }
                else
                {
                    while (AtDigit) _i++;
                }
                int integerEnd = _i;
                if (_i < _s.Length && _s[_i] == '.')
                {
                    _i++;
                    if (!AtDigit) throw Error("Invalid number: a digit must follow '.'");
                    while (AtDigit) _i++;
                }
                if (_i < _s.Length && (_s[_i] == 'e' || _s[_i] == 'E'))
                {
                    _i++;
                    if (_i < _s.Length && (_s[_i] == '+' || _s[_i] == '-')) _i++;
                    if (!AtDigit) throw Error("Invalid number: a digit must follow the exponent");
                    while (AtDigit) _i++;
                }

                // Short integers (status codes, counts, milliseconds) are exact in a long: no substring, no culture.
                int digits = integerEnd - start - (negative ? 1 : 0);
                if (_i == integerEnd && digits <= 15)
                {
                    long n = 0;
                    for (int k = integerEnd - digits; k < integerEnd; k++) n = n * 10 + (_s[k] - '0');
                    return negative ? (n == 0 ? -0.0 : -n) : n;
                }

                // The grammar is checked above, so only the range can fail here: .NET Framework throws on overflow,
                // .NET Core returns infinity; both are refused.
                double d;
                try { d = double.Parse(_s.Substring(start, _i - start), NumberStyles.Float, CultureInfo.InvariantCulture); }
                catch (OverflowException) { d = double.PositiveInfinity; }
                if (double.IsInfinity(d) || double.IsNaN(d))
                {
                    _i = start;
                    throw Error("Number out of range");
                }
                return d;
            }
        }
    }
}
