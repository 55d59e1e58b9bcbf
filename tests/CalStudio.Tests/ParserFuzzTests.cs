using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CalStudio.Client;
using Xunit;

namespace CalStudio.Tests
{
    using Json = CalStudio.Client.Json; // inside the namespace: a global 'Json' namespace from a test dependency would win otherwise

    /// <summary>
    /// Random and mutated documents, fixed seeds. Json: what WriteString writes reads back unchanged; random valid documents
    /// parse to the values they were generated from; mutations known to break the grammar are refused; any other mutation is
    /// accepted or refused exactly as System.Text.Json (a strict RFC 8259 reader) does, with the same value.
    /// ResponseParser: whatever the body, a result or a typed failure.
    /// </summary>
    public class ParserFuzzTests
    {
        private static readonly string[] Seeds =
        {
            "{\"message\":\"App's response\",\"status\":200,\"success\":true}",
            "{\"error\":{\"code\":\"invalid_api_key\",\"message\":\"bad\",\"request_id\":\"req_1\"}}",
            "{\"message\":\"no\",\"status\":422,\"success\":false}",
            "<html><head><title>502 Bad Gateway</title></head></html>",
            "[1,2,{\"a\":[true,false,null]}]",
            "{\"message\":\"\\u00e9\\ud83d\\ude00\\n\",\"success\":true}",
        };

        private static readonly int[] Statuses = { 200, 200, 200, 201, 204, 301, 307, 400, 401, 404, 429, 500, 502, 503 };

        [Fact]
        public void Ten_thousand_random_and_mutated_bodies_never_throw()
        {
            var random = new Random(20261127);
            var kinds = new Dictionary<OutcomeKind, int>();
            for (int i = 0; i < 10000; i++)
            {
                string seed = Seeds[random.Next(Seeds.Length)];
                string body = i % 3 == 0 ? RandomText(random) : i % 3 == 1 && i % 2 == 0 ? seed : Mutate(seed, random);
                int status = Statuses[random.Next(Statuses.Length)];
                var headers = new Dictionary<string, string>
                {
                    ["Retry-After"] = random.Next(4) == 0 ? RandomText(random) : random.Next(100).ToString(),
                    ["X-RateLimit-Reset"] = random.Next(4) == 0 ? RandomText(random) : "1900000000",
                    ["X-RateLimit-Remaining"] = random.Next(-5, 100).ToString(),
                };
                var outcome = ResponseParser.Parse(status, random.Next(2) == 0 ? "application/json" : "text/html", body,
                    name => headers.TryGetValue(name, out var v) ? v : null);

                Assert.NotNull(outcome);
                // A success exactly when the API's documented success shape arrived with HTTP 200.
                bool successShape = Json.TryParse(body, out object parsed) && parsed is Dictionary<string, object> o &&
                    o.TryGetValue("success", out object ok) && ok is bool b && b &&
                    o.TryGetValue("message", out object m) && m is string && !(o.TryGetValue("error", out object e) && e is Dictionary<string, object>);
                Assert.Equal(status == 200 && successShape, outcome.Kind == OutcomeKind.Success);
                if (outcome.Kind == OutcomeKind.Success)
                {
                    Assert.Equal(200, status);
                    Assert.Equal(((Dictionary<string, object>)parsed)["message"], outcome.Message);
                }
                else
                {
                    Assert.False(string.IsNullOrEmpty(outcome.ErrorId), "a failure without an ErrorId for body: " + body);
                    Assert.False(string.IsNullOrEmpty(outcome.ErrorMessage));
                }
                kinds[outcome.Kind] = kinds.TryGetValue(outcome.Kind, out int n) ? n + 1 : 1;
            }
            // The corpus really exercised both paths.
            Assert.True(kinds.ContainsKey(OutcomeKind.Success) && kinds[OutcomeKind.Success] > 20);
            Assert.True(kinds.ContainsKey(OutcomeKind.Transient) && kinds.ContainsKey(OutcomeKind.Permanent));
        }

        [Fact]
        public void Deep_nesting_is_refused_without_stack_overflow()
        {
            string body = new string('[', 100000) + new string(']', 100000);
            var outcome = ResponseParser.Parse(200, "application/json", body, _ => null);
            Assert.Equal(ErrorIds.InvalidResponse, outcome.ErrorId);
        }

        [Fact]
        public void Any_string_written_by_WriteString_reads_back_unchanged()
        {
            var random = new Random(1);
            for (int i = 0; i < 5000; i++)
            {
                var value = new StringBuilder();
                int n = random.Next(0, 40);
                for (int k = 0; k < n; k++)
                {
                    // Mostly the characters that need care: controls, quotes, backslashes, surrogates (paired or not).
                    switch (random.Next(6))
                    {
                        case 0: value.Append((char)random.Next(0, 0x20)); break;
                        case 1: value.Append("\"\\/\u2028\u2029\u007f"[random.Next(6)]); break;
                        case 2: value.Append((char)random.Next(0xD800, 0xE000)); break;
                        case 3: value.Append(char.ConvertFromUtf32(random.Next(0x10000, 0x110000))); break;
                        default: value.Append((char)random.Next(0x20, 0x10000)); break;
                    }
                }
                var sb = new StringBuilder();
                Json.WriteString(sb, value.ToString());
                Assert.Equal(value.ToString(), (string)Json.Parse(sb.ToString()));
            }
        }

        [Fact]
        public void Random_valid_documents_parse_to_the_values_they_were_written_from()
        {
            var random = new Random(2);
            for (int i = 0; i < 3000; i++)
            {
                var doc = new DocumentWriter(random);
                object expected = doc.WriteValue(0);
                string text = doc.Text;
                Assert.True(Json.TryParse(text, out object parsed), "refused a valid document: " + text);
                Assert.Equal(JsonConformanceTests.Show(expected), JsonConformanceTests.Show(parsed));
            }
        }

        [Fact]
        public void Mutations_that_break_the_grammar_are_refused()
        {
            var random = new Random(3);
            for (int i = 0; i < 3000; i++)
            {
                var doc = new DocumentWriter(random);
                doc.WriteContainer(0);
                string valid = doc.Text;
                Assert.True(Json.TryParse(valid, out _), valid);

                string[] broken =
                {
                    valid.Substring(0, random.Next(1, valid.Length)),                      // truncated: the last bracket is gone
                    valid.Substring(0, valid.Length - 1) + "," + valid[valid.Length - 1],  // a trailing comma
                    valid + " " + new[] { ",", "x", "1", "{}", "]", "\"\"" }[random.Next(6)],// trailing garbage
                    "[" + valid + ",0" + random.Next(0, 1000) + "]",                       // a leading zero
                    "[" + valid + "," + random.Next(0, 1000) + "." + "]",                  // a fraction without digits
                    "[" + valid + ",\"\\u" + random.Next(0xD800, 0xE000).ToString("x4") + "\"]", // a lone surrogate escape
                };
                foreach (string text in broken)
                    Assert.False(Json.TryParse(text, out _), "accepted an invalid document: " + text);
            }
        }

        [Fact]
        public void Random_mutations_are_judged_as_System_Text_Json_judges_them()
        {
            var random = new Random(4);
            int accepted = 0, refused = 0;
            for (int i = 0; i < 5000; i++)
            {
                var doc = new DocumentWriter(random);
                doc.WriteContainer(0);
                string text = i % 4 == 0 ? RandomText(random) : i % 4 == 1 ? Mutate(doc.Text, random) : EditOneCharacter(doc.Text, random);
                if (HasLoneSurrogateCharacter(text)) continue; // System.Text.Json transcodes these to U+FFFD first

                bool ours = Json.TryParse(text, out object parsed);
                string reference = ReferenceShow(text);
                if (ours) Assert.Equal(reference, JsonConformanceTests.Show(parsed, keepNegativeZero: false));
                else Assert.True(reference == null, "refused what System.Text.Json reads (" + reference + "): " + text);
                if (ours) accepted++; else refused++;
            }
            // The corpus really exercised both sides.
            Assert.True(accepted > 300 && refused > 1500, accepted + " accepted, " + refused + " refused");
        }

        /// <summary>The reference reading: System.Text.Json's value in the Show notation (last duplicate wins), or null when
        /// it refuses the text, a string in it is not valid UTF-16, or a number is beyond double's range.</summary>
        private static string ReferenceShow(string text)
        {
            try
            {
                using (var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 65 }))
                    return JsonConformanceTests.Show(FromElement(document.RootElement), keepNegativeZero: false);
            }
            catch (Exception ex) when (ex is JsonException || ex is InvalidOperationException || ex is FormatException) { return null; }
        }

        private static object FromElement(JsonElement e)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    var map = new Dictionary<string, object>(StringComparer.Ordinal);
                    foreach (var p in e.EnumerateObject()) map[p.Name] = FromElement(p.Value);
                    return map;
                case JsonValueKind.Array:
                    var list = new List<object>();
                    foreach (var item in e.EnumerateArray()) list.Add(FromElement(item));
                    return list;
                case JsonValueKind.String: return e.GetString();
                case JsonValueKind.Number:
                    if (!e.TryGetDouble(out double d) || double.IsInfinity(d)) throw new FormatException("out of range");
                    return d;
                case JsonValueKind.True: return true;
                case JsonValueKind.False: return false;
                default: return null;
            }
        }

        private static bool HasLoneSurrogateCharacter(string s)
        {
            for (int i = 0; i < s.Length; i++)
            {
                if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
                if (char.IsSurrogate(s[i])) return true;
            }
            return false;
        }

        /// <summary>
        /// Writes a random valid document and returns the value it stands for: varied whitespace, every escape form
        /// (short, \u in either case, surrogate pairs), numbers in every grammar form, repeated member names (last wins).
        /// </summary>
        private sealed class DocumentWriter
        {
            private static readonly string[] Names = { "a", "b", "message", "success", "é", "" };
            private readonly Random _r;
            private readonly StringBuilder _sb = new StringBuilder();

            public DocumentWriter(Random random) { _r = random; }
            public string Text => _sb.ToString();

            public object WriteValue(int depth)
            {
                int kind = depth >= 4 ? _r.Next(4) : _r.Next(6);
                switch (kind)
                {
                    case 0: return WriteLiteral();
                    case 1: return WriteNumber();
                    case 2: case 3: return WriteString(RandomString());
                    default: return WriteContainer(depth);
                }
            }

            public object WriteContainer(int depth) => _r.Next(2) == 0 ? (object)WriteArray(depth) : WriteObject(depth);

            private List<object> WriteArray(int depth)
            {
                var list = new List<object>();
                _sb.Append('['); Space();
                int n = _r.Next(0, 5);
                for (int i = 0; i < n; i++)
                {
                    if (i > 0) { _sb.Append(','); Space(); }
                    list.Add(WriteValue(depth + 1)); Space();
                }
                _sb.Append(']');
                return list;
            }

            private Dictionary<string, object> WriteObject(int depth)
            {
                var map = new Dictionary<string, object>(StringComparer.Ordinal);
                _sb.Append('{'); Space();
                int n = _r.Next(0, 5);
                for (int i = 0; i < n; i++)
                {
                    if (i > 0) { _sb.Append(','); Space(); }
                    string name = Names[_r.Next(Names.Length)];
                    WriteString(name); Space(); _sb.Append(':'); Space();
                    map[name] = WriteValue(depth + 1); Space(); // a repeated name: the last one wins
                }
                _sb.Append('}');
                return map;
            }

            private object WriteLiteral()
            {
                switch (_r.Next(3))
                {
                    case 0: _sb.Append("true"); return true;
                    case 1: _sb.Append("false"); return false;
                    default: _sb.Append("null"); return null;
                }
            }

            private double WriteNumber()
            {
                var n = new StringBuilder();
                if (_r.Next(3) == 0) n.Append('-');
                if (_r.Next(4) == 0) n.Append('0');
                else { n.Append((char)('1' + _r.Next(9))); Digits(n, _r.Next(0, 18)); }
                if (_r.Next(3) == 0) { n.Append('.'); Digits(n, _r.Next(1, 8)); }
                if (_r.Next(3) == 0)
                {
                    n.Append(_r.Next(2) == 0 ? 'e' : 'E').Append(new[] { "", "+", "-" }[_r.Next(3)]);
                    Digits(n, _r.Next(1, 3));
                }
                _sb.Append(n);
                return double.Parse(n.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture);
            }

            private void Digits(StringBuilder n, int count)
            {
                for (int i = 0; i < count; i++) n.Append((char)('0' + _r.Next(10)));
            }

            private string RandomString()
            {
                var s = new StringBuilder();
                int n = _r.Next(0, 12);
                for (int i = 0; i < n; i++)
                {
                    switch (_r.Next(5))
                    {
                        case 0: s.Append((char)_r.Next(0, 0x20)); break;
                        case 1: s.Append("\"\\/"[_r.Next(3)]); break;
                        case 2: s.Append(char.ConvertFromUtf32(_r.Next(0x10000, 0x110000))); break;
                        case 3: s.Append((char)_r.Next(0x80, 0xD800)); break;
                        default: s.Append((char)_r.Next(0x20, 0x7f)); break;
                    }
                }
                return s.ToString();
            }

            private string WriteString(string value)
            {
                _sb.Append('"');
                for (int i = 0; i < value.Length; i++)
                {
                    char c = value[i];
                    const string shortEscapes = "\"\\/\b\f\n\r\t";
                    const string shortLetters = "\"\\/bfnrt";
                    int shortIndex = shortEscapes.IndexOf(c);
                    bool mustEscape = c < 0x20 || c == '"' || c == '\\';
                    int form = _r.Next(3);
                    if (char.IsHighSurrogate(c))
                    {
                        // A pair is written as a pair: both escaped or both as they are.
                        char low = value[++i];
                        if (form == 1) { Escape(c); Escape(low); }
                        else _sb.Append(c).Append(low);
                    }
                    else if (form == 0 && shortIndex >= 0) _sb.Append('\\').Append(shortLetters[shortIndex]);
                    else if (form == 1 || mustEscape) Escape(c);
                    else _sb.Append(c);
                }
                _sb.Append('"');
                return value;
            }

            private void Escape(char c) =>
                _sb.Append("\\u").Append(((int)c).ToString(_r.Next(2) == 0 ? "x4" : "X4", CultureInfo.InvariantCulture));

            private void Space()
            {
                if (_r.Next(3) != 0) return;
                int n = _r.Next(1, 4);
                for (int i = 0; i < n; i++) _sb.Append(" \t\r\n"[_r.Next(4)]);
            }
        }

        private static string RandomText(Random r)
        {
            const string alphabet = "{}[]\":,\\ntrufalse0123456789.-eE \u00e9\ud83d\ude00<>/abc";
            var sb = new StringBuilder();
            int n = r.Next(0, 60);
            for (int i = 0; i < n; i++) sb.Append(alphabet[r.Next(alphabet.Length)]);
            return sb.ToString();
        }

        // One character deleted, inserted or replaced, from the characters that matter to the grammar.
        private static string EditOneCharacter(string s, Random r)
        {
            const string grammar = "0123456789-+.eE\"\\/ubfnrtx{}[]:, \t\n\u000b\u00a0\ud83d\ude00";
            var sb = new StringBuilder(s);
            int at = r.Next(sb.Length);
            char c = grammar[r.Next(grammar.Length)];
            switch (r.Next(3))
            {
                case 0: sb.Remove(at, 1); break;
                case 1: sb.Insert(at, c); break;
                default: sb[at] = c; break;
            }
            return sb.ToString();
        }

        private static string Mutate(string s, Random r)
        {
            var sb = new StringBuilder(s);
            int edits = r.Next(1, 5);
            for (int e = 0; e < edits && sb.Length > 0; e++)
            {
                int at = r.Next(sb.Length);
                switch (r.Next(4))
                {
                    case 0: sb.Remove(at, 1); break;
                    case 1: { const string junk = "{}[]\",:\\\u0000x9"; sb.Insert(at, junk[r.Next(junk.Length)]); break; }
                    case 2: sb[at] = (char)r.Next(0, 0x3000); break;
                    default: sb.Length = at; break; // truncation
                }
            }
            return sb.ToString();
        }
    }
}
