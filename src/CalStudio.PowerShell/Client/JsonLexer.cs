using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace CalStudio.Client
{
    /// <summary>What a <see cref="JsonLexer"/> method refused; the index it leaves is where.</summary>
    internal enum JsonLexError
    {
        None,
        UnexpectedEnd,
        UnexpectedCharacter,
        InvalidLiteral,
        UnterminatedString,
        ControlCharacter,
        UnterminatedEscape,
        InvalidEscape,
        ShortUnicodeEscape,
        InvalidUnicodeEscape,
        LowSurrogateFirst,
        HighSurrogateAlone,
        NoDigitAfterMinus,
        LeadingZero,
        NoDigitAfterPoint,
        NoDigitInExponent,
        NumberOutOfRange,
    }

    /// <summary>
    /// The JSON lexical grammar (RFC 8259), once: whitespace, literals, strings with their escapes and numbers. Both the
    /// general reader (<see cref="Json"/>, which throws) and the journal's flat-line reader (which must not) build on it,
    /// so a document gets the same verdict and value from either. The decisions where the RFC leaves a choice are
    /// listed on <see cref="Json"/>. Each Try method starts at the token's first character; on success it leaves the
    /// index after the token, on failure at the offending character and says why. None throws.
    /// </summary>
    internal static class JsonLexer
    {
        /// <summary>
        /// MethodImplOptions.AggressiveOptimization (not in netstandard2.0, so by value; .NET Framework ignores it): a fresh
        /// process opening a long journal runs these loops half a million times before tiered JIT would optimize them.
        /// </summary>
        internal const MethodImplOptions Hot = (MethodImplOptions)512;

        /// <summary>The two-character escapes (RFC 8259 section 7): a backslash and EscapeLetters[k] stand for EscapedCharacters[k].</summary>
        internal const string EscapeLetters = "\"\\/bfnrt";
        internal const string EscapedCharacters = "\"\\/\b\f\n\r\t";

        /// <summary>The index of the first character at or after <paramref name="i"/> that is not JSON whitespace.</summary>
        [MethodImpl(Hot)]
        public static int SkipWhitespace(string s, int i)
        {
            while (i < s.Length && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
            return i;
        }

        /// <summary>A string, number, true, false or null (as string, double, bool or null); an object or array is refused as an unexpected character.</summary>
        [MethodImpl(Hot)]
        public static bool TryReadScalar(string s, ref int i, out object value, out JsonLexError error)
        {
            value = null;
            error = JsonLexError.None;
            if (i >= s.Length) { error = JsonLexError.UnexpectedEnd; return false; }
            char c = s[i];
            switch (c)
            {
                case '"':
                    bool ok = TryReadString(s, ref i, out string text, out error);
                    value = text;
                    return ok;
                case 't': value = true; return TryReadLiteral(s, ref i, "true", out error);
                case 'f': value = false; return TryReadLiteral(s, ref i, "false", out error);
                case 'n': return TryReadLiteral(s, ref i, "null", out error);
                default:
                    if (c == '-' || (c >= '0' && c <= '9'))
                    {
                        ok = TryReadNumber(s, ref i, out double number, out error);
                        value = number;
                        return ok;
                    }
                    error = JsonLexError.UnexpectedCharacter;
                    return false;
            }
        }

        private static bool TryReadLiteral(string s, ref int i, string literal, out JsonLexError error)
        {
            error = JsonLexError.None;
            if (string.CompareOrdinal(s, i, literal, 0, literal.Length) != 0) { error = JsonLexError.InvalidLiteral; return false; }
            i += literal.Length;
            return true;
        }

        /// <summary>At the opening quote. Most strings have no escape: they are taken in one piece.</summary>
        [MethodImpl(Hot)]
        public static bool TryReadString(string s, ref int i, out string value, out JsonLexError error)
        {
            value = null;
            error = JsonLexError.None;
            int start = ++i;
            while (i < s.Length)
            {
                char c = s[i];
                if (c == '"') { value = s.Substring(start, i - start); i++; return true; }
                if (c == '\\') return TryReadEscapedString(s, start, ref i, out value, out error);
                if (c < 0x20) { error = JsonLexError.ControlCharacter; return false; }
                i++;
            }
            error = JsonLexError.UnterminatedString;
            return false;
        }

        // From the first backslash on: runs between escapes are appended whole.
        private static bool TryReadEscapedString(string s, int start, ref int i, out string value, out JsonLexError error)
        {
            value = null;
            var sb = new StringBuilder(i - start + 16);
            int runStart = start;
            while (i < s.Length)
            {
                char c = s[i];
                if (c == '"')
                {
                    value = sb.Append(s, runStart, i - runStart).ToString();
                    i++;
                    error = JsonLexError.None;
                    return true;
                }
                if (c < 0x20) { error = JsonLexError.ControlCharacter; return false; }
                if (c != '\\') { i++; continue; }

                sb.Append(s, runStart, i - runStart);
                i++; // backslash
                if (i >= s.Length) { error = JsonLexError.UnterminatedEscape; return false; }
                if (s[i] == 'u')
                {
                    i++;
                    if (!TryAppendUnicodeEscape(s, ref i, sb, out error)) return false;
                    runStart = i;
                    continue;
                }
                int k = EscapeLetters.IndexOf(s[i]);
                if (k < 0) { error = JsonLexError.InvalidEscape; return false; }
                sb.Append(EscapedCharacters[k]);
                runStart = ++i;
            }
            error = JsonLexError.UnterminatedString;
            return false;
        }

        // After "\u": four hex digits; a surrogate must come as a high-low pair of escapes.
        private static bool TryAppendUnicodeEscape(string s, ref int i, StringBuilder sb, out JsonLexError error)
        {
            if (!TryReadHex4(s, ref i, out char code, out error)) return false;
            if (char.IsLowSurrogate(code)) { error = JsonLexError.LowSurrogateFirst; return false; }
            if (char.IsHighSurrogate(code))
            {
                if (i + 2 > s.Length || s[i] != '\\' || s[i + 1] != 'u') { error = JsonLexError.HighSurrogateAlone; return false; }
                i += 2;
                if (!TryReadHex4(s, ref i, out char low, out error)) return false;
                if (!char.IsLowSurrogate(low)) { error = JsonLexError.HighSurrogateAlone; return false; }
                sb.Append(code).Append(low);
                return true;
            }
            sb.Append(code);
            return true;
        }

        private static bool TryReadHex4(string s, ref int i, out char code, out JsonLexError error)
        {
            code = '\0';
            if (i + 4 > s.Length) { error = JsonLexError.ShortUnicodeEscape; return false; }
            int value = 0;
            for (int k = 0; k < 4; k++)
            {
                int digit = HexValue(s[i + k]);
                if (digit < 0) { error = JsonLexError.InvalidUnicodeEscape; return false; }
                value = (value << 4) | digit;
            }
            i += 4;
            code = (char)value;
            error = JsonLexError.None;
            return true;
        }

        private static int HexValue(char c)
        {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        }

        private static bool IsDigit(string s, int i) => i < s.Length && s[i] >= '0' && s[i] <= '9';

        /// <summary>
        /// RFC 8259: -? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?, as a double. Short integers (status codes,
        /// counts, milliseconds) are exact in a long: no substring, no culture. Beyond double's range is refused.
        /// </summary>
        [MethodImpl(Hot)]
        public static bool TryReadNumber(string s, ref int i, out double value, out JsonLexError error)
        {
            value = 0;
            int start = i;
            bool negative = i < s.Length && s[i] == '-';
            if (negative) i++;
            if (!IsDigit(s, i)) { error = JsonLexError.NoDigitAfterMinus; return false; }
            int digitsStart = i;
            long whole = 0;
            if (s[i] == '0')
            {
                i++;
                if (IsDigit(s, i)) { error = JsonLexError.LeadingZero; return false; }
            }
            else
            {
                // Wraps silently past 18 digits; only read when there are at most 15.
                while (IsDigit(s, i)) { whole = unchecked(whole * 10 + (s[i] - '0')); i++; }
            }
            int digits = i - digitsStart;
            bool plain = digits <= 15;
            if (i < s.Length && s[i] == '.')
            {
                plain = false;
                i++;
                if (!IsDigit(s, i)) { error = JsonLexError.NoDigitAfterPoint; return false; }
                while (IsDigit(s, i)) i++;
            }
            if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
            {
                plain = false;
                i++;
                if (i < s.Length && (s[i] == '+' || s[i] == '-')) i++;
                if (!IsDigit(s, i)) { error = JsonLexError.NoDigitInExponent; return false; }
                while (IsDigit(s, i)) i++;
            }
            error = JsonLexError.None;
            if (plain)
            {
                value = negative ? (whole == 0 ? -0.0 : -whole) : whole;
                return true;
            }

            // The grammar is checked above, so only the range can fail here: .NET Framework says false on overflow,
            // .NET Core gives infinity; both are refused.
            if (double.TryParse(s.Substring(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out value)
                && !double.IsInfinity(value) && !double.IsNaN(value))
                return true;
            value = 0;
            i = start;
            error = JsonLexError.NumberOutOfRange;
            return false;
        }

        /// <summary>The words for a refusal at <paramref name="i"/> (without the position).</summary>
        public static string Describe(JsonLexError error, string s, int i)
        {
            switch (error)
            {
                case JsonLexError.UnexpectedEnd: return "Unexpected end of JSON";
                case JsonLexError.UnexpectedCharacter: return "Unexpected character '" + s[i] + "'";
                case JsonLexError.InvalidLiteral: return "Invalid literal";
                case JsonLexError.UnterminatedString: return "Unterminated string";
                case JsonLexError.ControlCharacter: return "Control character in string";
                case JsonLexError.UnterminatedEscape: return "Unterminated escape";
                case JsonLexError.InvalidEscape: return "Invalid escape '\\" + s[i] + "'";
                case JsonLexError.ShortUnicodeEscape: return "Short \\u escape";
                case JsonLexError.InvalidUnicodeEscape: return "Invalid \\u escape";
                case JsonLexError.LowSurrogateFirst: return "A \\u escape of a low surrogate without a high one before it";
                case JsonLexError.HighSurrogateAlone: return "A \\u escape of a high surrogate not followed by a low one";
                case JsonLexError.NoDigitAfterMinus: return "Invalid number: a digit must follow '-'";
                case JsonLexError.LeadingZero: return "Invalid number: leading zero";
                case JsonLexError.NoDigitAfterPoint: return "Invalid number: a digit must follow '.'";
                case JsonLexError.NoDigitInExponent: return "Invalid number: a digit must follow the exponent";
                case JsonLexError.NumberOutOfRange: return "Number out of range";
                default: return "Invalid JSON";
            }
        }
    }
}
