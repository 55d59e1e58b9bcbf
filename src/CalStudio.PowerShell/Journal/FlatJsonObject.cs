using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace CalStudio.Journal
{
    /// <summary>
    /// Reads one journal line: a JSON object whose values are all strings, numbers, booleans or null. Strict JSON,
    /// but no nesting (a nested value in a journal line is damage) and no per-character copying of plain strings,
    /// so half a million lines open in about a second. Values: string, double, bool, null. Never throws.
    /// </summary>
    internal static class FlatJsonObject
    {
        /// <summary>
        /// MethodImplOptions.AggressiveOptimization (not in netstandard2.0, so by value; .NET Framework ignores it): a fresh
        /// process opening a long journal runs these loops half a million times before tiered JIT would optimize them.
        /// </summary>
        internal const MethodImplOptions Hot = (MethodImplOptions)512;

        /// <summary>The object's members in order (a repeated name appears twice: the later one wins when read in order); null if not such an object.</summary>
        [MethodImpl(Hot)]
        public static List<KeyValuePair<string, object>> TryParse(string s)
        {
            var members = new List<KeyValuePair<string, object>>(16);
            int i = SkipWhitespace(s, 0);
            if (i >= s.Length || s[i] != '{') return null;
            i = SkipWhitespace(s, i + 1);
            if (i < s.Length && s[i] == '}') return SkipWhitespace(s, i + 1) == s.Length ? members : null;
            while (true)
            {
                if (i >= s.Length || s[i] != '"' || !TryReadString(s, ref i, out string name)) return null;
                i = SkipWhitespace(s, i);
                if (i >= s.Length || s[i] != ':') return null;
                i = SkipWhitespace(s, i + 1);
                if (!TryReadScalar(s, ref i, out object value)) return null;
                members.Add(new KeyValuePair<string, object>(name, value));
                i = SkipWhitespace(s, i);
                if (i >= s.Length) return null;
                if (s[i] == ',') { i = SkipWhitespace(s, i + 1); continue; }
                if (s[i] == '}') return SkipWhitespace(s, i + 1) == s.Length ? members : null;
                return null;
            }
        }

        [MethodImpl(Hot)]
        private static int SkipWhitespace(string s, int i)
        {
            while (i < s.Length && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
            return i;
        }

        [MethodImpl(Hot)]
        private static bool TryReadScalar(string s, ref int i, out object value)
        {
            value = null;
            if (i >= s.Length) return false;
            char c = s[i];
            if (c == '"') { bool ok = TryReadString(s, ref i, out string text); value = text; return ok; }
            if (c == 't') { value = true; return TryLiteral(s, ref i, "true"); }
            if (c == 'f') { value = false; return TryLiteral(s, ref i, "false"); }
            if (c == 'n') return TryLiteral(s, ref i, "null");
            if (c == '-' || (c >= '0' && c <= '9')) { bool ok = TryReadNumber(s, ref i, out double d); value = d; return ok; }
            return false; // an object, an array or garbage
        }

        private static bool TryLiteral(string s, ref int i, string literal)
        {
            if (string.CompareOrdinal(s, i, literal, 0, literal.Length) != 0) return false;
            i += literal.Length;
            return true;
        }

        /// <summary>At the opening quote; leaves i after the closing one.</summary>
        [MethodImpl(Hot)]
        private static bool TryReadString(string s, ref int i, out string value)
        {
            value = null;
            int start = ++i;
            while (i < s.Length)
            {
                char c = s[i];
                if (c == '"') { value = s.Substring(start, i - start); i++; return true; }
                if (c < 0x20) return false;
                if (c == '\\') return TryReadEscaped(s, start, ref i, out value);
                i++;
            }
            return false;
        }

        private static bool TryReadEscaped(string s, int start, ref int i, out string value)
        {
            value = null;
            var sb = new StringBuilder(s, start, i - start, i - start + 16);
            while (i < s.Length)
            {
                char c = s[i++];
                if (c == '"') { value = sb.ToString(); return true; }
                if (c < 0x20) return false;
                if (c != '\\') { sb.Append(c); continue; }
                if (i >= s.Length) return false;
                switch (s[i++])
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (i + 4 > s.Length || !int.TryParse(s.Substring(i, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code)) return false;
                        sb.Append((char)code);
                        i += 4;
                        break;
                    default: return false;
                }
            }
            return false;
        }

        /// <summary>JSON number grammar; whole numbers of up to 15 digits without a string copy. Infinity or NaN is damage.</summary>
        [MethodImpl(Hot)]
        private static bool TryReadNumber(string s, ref int i, out double value)
        {
            value = 0;
            int start = i;
            bool negative = s[i] == '-';
            if (negative) i++;
            int digitsStart = i;
            long whole = 0;
            while (i < s.Length && s[i] >= '0' && s[i] <= '9') { if (i - digitsStart < 15) whole = whole * 10 + (s[i] - '0'); i++; }
            int digits = i - digitsStart;
            if (digits == 0 || (digits > 1 && s[digitsStart] == '0')) return false;
            bool plain = digits <= 15;
            if (i < s.Length && s[i] == '.')
            {
                plain = false;
                int fraction = ++i;
                while (i < s.Length && s[i] >= '0' && s[i] <= '9') i++;
                if (i == fraction) return false;
            }
            if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
            {
                plain = false;
                i++;
                if (i < s.Length && (s[i] == '+' || s[i] == '-')) i++;
                int exponent = i;
                while (i < s.Length && s[i] >= '0' && s[i] <= '9') i++;
                if (i == exponent) return false;
            }
            if (plain) { value = negative ? -whole : whole; return true; }
            return double.TryParse(s.Substring(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out value)
                   && !double.IsInfinity(value) && !double.IsNaN(value);
        }
    }
}
