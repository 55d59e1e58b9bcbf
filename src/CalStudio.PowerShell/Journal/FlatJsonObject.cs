using System.Collections.Generic;
using System.Runtime.CompilerServices;
using CalStudio.Client;

namespace CalStudio.Journal
{
    /// <summary>
    /// Reads one journal line: a JSON object whose values are all strings, numbers, booleans or null. Strict JSON (the
    /// lexical grammar is <see cref="JsonLexer"/>'s, as for <see cref="Json"/>), but no nesting (a nested value in a
    /// journal line is damage), no exceptions and no dictionary, so half a million lines open in about a second.
    /// Values: string, double, bool, null. Never throws.
    /// </summary>
    internal static class FlatJsonObject
    {
        /// <summary>The journal's hot loops are marked as the lexer's are (see <see cref="JsonLexer.Hot"/>).</summary>
        internal const MethodImplOptions Hot = JsonLexer.Hot;

        /// <summary>The object's members in order (a repeated name appears twice: the later one wins when read in order); null if not such an object.</summary>
        [MethodImpl(Hot)]
        public static List<KeyValuePair<string, object>> TryParse(string s)
        {
            var members = new List<KeyValuePair<string, object>>(16);
            int i = JsonLexer.SkipWhitespace(s, 0);
            if (i >= s.Length || s[i] != '{') return null;
            i = JsonLexer.SkipWhitespace(s, i + 1);
            if (i < s.Length && s[i] == '}') return JsonLexer.SkipWhitespace(s, i + 1) == s.Length ? members : null;
            while (true)
            {
                if (i >= s.Length || s[i] != '"' || !JsonLexer.TryReadString(s, ref i, out string name, out _)) return null;
                i = JsonLexer.SkipWhitespace(s, i);
                if (i >= s.Length || s[i] != ':') return null;
                i = JsonLexer.SkipWhitespace(s, i + 1);
                if (!JsonLexer.TryReadScalar(s, ref i, out object value, out _)) return null; // an object, an array or damage
                members.Add(new KeyValuePair<string, object>(name, value));
                i = JsonLexer.SkipWhitespace(s, i);
                if (i >= s.Length) return null;
                if (s[i] == ',') { i = JsonLexer.SkipWhitespace(s, i + 1); continue; }
                if (s[i] == '}') return JsonLexer.SkipWhitespace(s, i + 1) == s.Length ? members : null;
                return null;
            }
        }
    }
}
