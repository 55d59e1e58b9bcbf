using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using CalStudio.Client;
using CalStudio.Journal;
using Xunit;

namespace CalStudio.Tests
{
    using Json = CalStudio.Client.Json; // inside the namespace: a global 'Json' namespace from a test dependency would win otherwise

    /// <summary>
    /// RFC 8259 conformance of Json.Parse: documents it must read (with the value it must give) and documents it must
    /// refuse. Expected values are written in a compact notation (see <see cref="Show"/>) so each case is one line.
    /// Every case is also run through the journal's flat-line reader (FlatJsonObject), which must give the same verdict
    /// and value wherever the document is, or can stand as a member value in, an object of scalars.
    /// </summary>
    public class JsonConformanceTests
    {
        [Theory]
        // numbers
        [InlineData("0", "0")]
        [InlineData("-0", "-0")]
        [InlineData("7", "7")]
        [InlineData("-12", "-12")]
        [InlineData("1.5", "1.5")]
        [InlineData("-0.25", "-0.25")]
        [InlineData("0.0", "0")]
        [InlineData("10", "10")]
        [InlineData("1e3", "1000")]
        [InlineData("1E3", "1000")]
        [InlineData("1e+3", "1000")]
        [InlineData("1e-3", "0.001")]
        [InlineData("2.5E-1", "0.25")]
        [InlineData("0e0", "0")]
        [InlineData("-0e-0", "-0")]
        [InlineData("123456789012345", "123456789012345")]
        [InlineData("9007199254740993", "9007199254740992")] // beyond 2^53: nearest double, as in JavaScript
        [InlineData("1e308", "1E+308")]
        [InlineData("1.7976931348623157e308", "1.7976931348623157E+308")]
        [InlineData("1e-400", "0")] // underflow is representable: zero
        // strings and escapes
        [InlineData("\"\"", "''")]
        [InlineData("\"abc\"", "'abc'")]
        [InlineData("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "'\"\\/\b\f\n\r\t'")]
        [InlineData("\"\\u0041\\u00e9\\u00E9\"", "'Aéé'")]
        [InlineData("\"\\u0000\"", "'\0'")]
        [InlineData("\"\\ud83d\\ude00\"", "'😀'")]
        [InlineData("\"\\uD83D\\uDE00x\"", "'😀x'")]
        [InlineData("\"😀 raw\"", "'😀 raw'")]
        [InlineData("\"\u007f \u2028 \uffff\"", "'\u007f \u2028 \uffff'")]
        [InlineData("\"a\\u005Cb\"", "'a\\b'")]
        // literals, arrays, objects, whitespace
        [InlineData("true", "true")]
        [InlineData("false", "false")]
        [InlineData("null", "null")]
        [InlineData("[]", "[]")]
        [InlineData("{}", "{}")]
        [InlineData(" \t\r\n[ 1 , \"a\" ,true,null , { } ] \n", "[1,'a',true,null,{}]")]
        [InlineData("{\"a\":{\"b\":[[],[{}]]}}", "{a:{b:[[],[{}]]}}")]
        [InlineData("{ \"a\" : 1 , \"b\" : [ 2 ] }", "{a:1,b:[2]}")]
        [InlineData("{\"\":0}", "{:0}")]
        // duplicate names: the last one wins
        [InlineData("{\"a\":1,\"a\":2}", "{a:2}")]
        [InlineData("{\"success\":false,\"message\":\"x\",\"success\":true}", "{message:'x',success:true}")]
        [InlineData("{\"a\":{\"x\":1},\"a\":null}", "{a:null}")]
        public void Valid_documents_parse_to_the_expected_value(string json, string expected)
        {
            Assert.Equal(expected, Show(Json.Parse(json)));
            Assert.True(Json.TryParse(json, out object value));
            Assert.Equal(expected, Show(value));

            if (value is Dictionary<string, object>)
                Assert.Equal(HasNestedValue(json) ? "refused" : expected, ShowFlat(json));
            else if (!(value is List<object>))
                Assert.Equal("{v:" + expected + "}", ShowFlat(AsMemberValue(json)));
        }

        [Theory]
        // numbers outside the grammar
        [InlineData("01")]
        [InlineData("-01")]
        [InlineData("00")]
        [InlineData("00000000000000000000e0")]
        [InlineData("1.")]
        [InlineData("1.e3")]
        [InlineData(".5")]
        [InlineData("-.5")]
        [InlineData("-")]
        [InlineData("--1")]
        [InlineData("+1")]
        [InlineData("1e")]
        [InlineData("1e+")]
        [InlineData("1E-")]
        [InlineData("1e1.5")]
        [InlineData("1.5.5")]
        [InlineData("0x10")]
        [InlineData("1_000")]
        [InlineData("NaN")]
        [InlineData("Infinity")]
        [InlineData("-Infinity")]
        [InlineData("[01]")]
        [InlineData("[1.]")]
        [InlineData("{\"a\":-}")]
        [InlineData("\u0661")] // an Arabic-Indic digit is not a JSON digit
        // beyond double's range: refused (never an infinity)
        [InlineData("1e400")]
        [InlineData("-1e400")]
        [InlineData("[1.8e308]")]
        [InlineData("{\"durationMs\":1e99999}")]
        // strings
        [InlineData("\"abc")]
        [InlineData("\"abc\\\"")]
        [InlineData("'abc'")]
        [InlineData("\"a\nb\"")]
        [InlineData("\"a\tb\"")]
        [InlineData("\"\u0000\"")]
        [InlineData("\"\u001f\"")]
        [InlineData("\"\\x41\"")]
        [InlineData("\"\\a\"")]
        [InlineData("\"\\U0041\"")]
        [InlineData("\"\\u004\"")]
        [InlineData("\"\\u00g1\"")]
        [InlineData("\"\\u+041\"")]
        [InlineData("\"\\u 041\"")]
        [InlineData("\"\\")]
        // lone or reversed surrogate escapes
        [InlineData("\"\\ud800\"")]
        [InlineData("\"\\ud800x\"")]
        [InlineData("\"\\uD83D\\u0041\"")]
        [InlineData("\"\\ud83d\\ud83d\"")]
        [InlineData("\"\\ud83d\\n\"")]
        [InlineData("\"\\ud83d\\")]
        [InlineData("\"\\ude00\"")]
        [InlineData("\"\\ude00\\ud83d\"")]
        [InlineData("\"\\udfff\"")]
        // literals
        [InlineData("tru")]
        [InlineData("True")]
        [InlineData("nul")]
        [InlineData("NULL")]
        [InlineData("falsey")]
        [InlineData("undefined")]
        // structure
        [InlineData("")]
        [InlineData("   ")]
        [InlineData("[")]
        [InlineData("]")]
        [InlineData("[1,]")]
        [InlineData("[,1]")]
        [InlineData("[1 2]")]
        [InlineData("[1,,2]")]
        [InlineData("{\"a\":1,}")]
        [InlineData("{,}")]
        [InlineData("{\"a\"}")]
        [InlineData("{\"a\":}")]
        [InlineData("{\"a\" 1}")]
        [InlineData("{a:1}")]
        [InlineData("{'a':1}")]
        [InlineData("{1:1}")]
        [InlineData("{\"a\":1 \"b\":2}")]
        [InlineData("{\"a\":1")]
        [InlineData("[{]")]
        // whitespace that JSON does not allow, comments
        [InlineData("\u00a0[]")]
        [InlineData("[]\u000b")]
        [InlineData("[\f]")]
        [InlineData("\ufeff{}")]
        [InlineData("[] // comment")]
        [InlineData("/* c */ []")]
        // trailing garbage, two values
        [InlineData("{}x")]
        [InlineData("{}{}")]
        [InlineData("[] []")]
        [InlineData("1 2")]
        [InlineData("\"a\" \"b\"")]
        [InlineData("null\u0000")]
        public void Invalid_documents_are_refused(string json)
        {
            Assert.Throws<FormatException>(() => Json.Parse(json));
            Assert.False(Json.TryParse(json, out object value));
            Assert.Null(value);

            Assert.Equal("refused", ShowFlat(json));
            // Still invalid as a member value, for both readers: the flat reader meets the same tokens there.
            Assert.False(Json.TryParse(AsMemberValue(json), out _));
            Assert.Equal("refused", ShowFlat(AsMemberValue(json)));
        }

        [Theory]
        [InlineData("\\ud800")]
        [InlineData("\\udfff")]
        [InlineData("\\ude00\\ud83d")]
        [InlineData("\\ud83d\\u0041")]
        [InlineData("\\ud83d")]
        public void The_journal_refuses_a_line_with_a_lone_surrogate_escape_as_Json_Parse_does(string escapes)
        {
            string good = JournalEntry.ToLine(new Response { RowKey = "1", Success = true, Prompt = "p", Message = "m" }, null);
            Assert.True(JournalEntry.TryParse(good, out _, out _));
            Assert.True(Json.TryParse(good, out _));

            string damaged = good.Replace("\"message\":\"m\"", "\"message\":\"m" + escapes + "\"");
            Assert.NotEqual(good, damaged);
            var ex = Assert.Throws<FormatException>(() => Json.Parse(damaged));
            Assert.Contains("surrogate", ex.Message);
            Assert.Null(FlatJsonObject.TryParse(damaged));
            Assert.False(JournalEntry.TryParse(damaged, out Response response, out _));
            Assert.Null(response);
        }

        [Fact]
        public void Both_readers_give_the_same_values_for_a_journal_line_with_every_kind_of_scalar()
        {
            string line = "{\"s\":\"a\\\"\\u00e9\\ud83d\\ude00\\n\",\"i\":-0,\"n\":412,\"d\":-12.5e-3,\"big\":1234567890123456789," +
                          "\"t\":true,\"f\":false,\"z\":null,\"s\":\"last\"}";
            Assert.Equal(Show(Json.Parse(line)), ShowFlat(line));
            Assert.Equal("{big:1.2345678901234568E+18,d:-0.0125,f:false,i:-0,n:412,s:'last',t:true,z:null}", ShowFlat(line));
        }

        [Fact]
        public void Null_text_is_refused_as_a_format_error()
        {
            Assert.Throws<FormatException>(() => Json.Parse(null));
        }

        [Theory]
        [InlineData(64, true)]
        [InlineData(65, false)]
        public void Nesting_is_allowed_to_64_levels_below_the_top(int depth, bool valid)
        {
            // depth 64 = the top-level array plus 64 nested inside it.
            string arrays = new string('[', depth + 1) + new string(']', depth + 1);
            string objects = new StringBuilder().Insert(0, "{\"a\":", depth).Append("{}").Append('}', depth).ToString();
            Assert.Equal(valid, Json.TryParse(arrays, out _));
            Assert.Equal(valid, Json.TryParse(objects, out _));
        }

        [Fact]
        public void Numbers_are_doubles_and_integers_are_exact()
        {
            var values = (List<object>)Json.Parse("[200, 429, 1732700000000, -5, 3.25, 0]");
            Assert.All(values, v => Assert.IsType<double>(v));
            Assert.Equal(new object[] { 200d, 429d, 1732700000000d, -5d, 3.25d, 0d }, values.ToArray());
            Assert.Equal("-0", Show(Json.Parse("-0")));
        }

        [Fact]
        public void Error_messages_say_where_the_document_went_wrong()
        {
            var ex = Assert.Throws<FormatException>(() => Json.Parse("{\"a\":01}"));
            Assert.Contains("leading zero", ex.Message);
            Assert.Contains("character 6", ex.Message);
            ex = Assert.Throws<FormatException>(() => Json.Parse("[1e400]"));
            Assert.Contains("out of range", ex.Message);
            ex = Assert.Throws<FormatException>(() => Json.Parse("\"\\ud800\""));
            Assert.Contains("surrogate", ex.Message);
        }

        [Theory]
        [InlineData("")]
        [InlineData("plain")]
        [InlineData("quote \" backslash \\ slash /")]
        [InlineData("\b\f\n\r\t\0\u0001\u001f\u007f")]
        [InlineData("\u2028\u2029 line separators")]
        [InlineData("é 😀 \uffff")]
        [InlineData("lone \ud800 high, lone \udc00 low, reversed \ude00\ud83d")]
        public void Written_strings_read_back_unchanged(string value)
        {
            var sb = new StringBuilder();
            Json.WriteString(sb, value);
            string written = sb.ToString();
            Assert.Equal(value, Json.Parse(written));
            foreach (char c in written) Assert.False(c < 0x20, "a raw control character in " + written);
        }

        /// <summary>The document as the value of a member "v" of an otherwise empty object.</summary>
        private static string AsMemberValue(string json) => "{\"v\":" + json + "}";

        /// <summary>An object or array inside the top-level object, even one a later member replaces (no case has a brace or bracket inside a string).</summary>
        private static bool HasNestedValue(string json) => json.IndexOfAny(new[] { '{', '[' }, json.IndexOf('{') + 1) >= 0;

        /// <summary>What FlatJsonObject reads, folded as Json.Parse folds an object (the last of a repeated name wins), shown as <see cref="Show"/> does; "refused" for null.</summary>
        private static string ShowFlat(string line)
        {
            var members = FlatJsonObject.TryParse(line);
            if (members == null) return "refused";
            var map = new Dictionary<string, object>(StringComparer.Ordinal);
            foreach (var m in members) map[m.Key] = m.Value;
            return Show(map);
        }

        /// <summary>
        /// A compact, unambiguous rendering of a parsed value: strings in single quotes, object members sorted by name as
        /// name:value (names unquoted), numbers in invariant "R" format (-0 kept unless asked not to), true/false/null.
        /// </summary>
        internal static string Show(object value, bool keepNegativeZero = true)
        {
            switch (value)
            {
                case null: return "null";
                case bool b: return b ? "true" : "false";
                case string s: return "'" + s + "'";
                case double d:
                    if (d == 0) return keepNegativeZero && 1 / d < 0 ? "-0" : "0";
                    return d.ToString("R", CultureInfo.InvariantCulture);
                case List<object> list:
                    return "[" + string.Join(",", list.ConvertAll(v => Show(v, keepNegativeZero))) + "]";
                case Dictionary<string, object> map:
                    var names = new List<string>(map.Keys);
                    names.Sort(StringComparer.Ordinal);
                    return "{" + string.Join(",", names.ConvertAll(n => n + ":" + Show(map[n], keepNegativeZero))) + "}";
                default:
                    throw new InvalidOperationException("Json.Parse returned a " + value.GetType().FullName);
            }
        }
    }
}
