using System;
using System.Collections.Generic;
using System.Security;
using System.Text;
using CalStudio.Client;
using CalStudio.Engine;
using Xunit;

namespace CalStudio.Tests
{
    public class RequestAndInputTests
    {
        internal static ApiKey Key(string text)
        {
            var s = new SecureString();
            foreach (char c in text) s.AppendChar(c);
            return new ApiKey(s);
        }

        private static Dictionary<string, object> BodyOf(PromptRequest request, string key)
        {
            byte[] body = request.ToBody(Key(key));
            return (Dictionary<string, object>)CalStudio.Client.Json.Parse(Encoding.UTF8.GetString(body));
        }

        [Fact]
        public void Body_has_the_documented_fields_and_leaves_out_an_absent_file_url()
        {
            var body = BodyOf(new PromptRequest("Hi", "my-app", null), "cs_key_1");
            Assert.Equal(new[] { "prompt", "apiKey", "appName" }, body.Keys);
            Assert.Equal("Hi", body["prompt"]);
            Assert.Equal("cs_key_1", body["apiKey"]);
            Assert.Equal("my-app", body["appName"]);

            var withFile = BodyOf(new PromptRequest("Hi", "my-app", "https://x.example/a.pdf"), "k");
            Assert.Equal("https://x.example/a.pdf", withFile["fileUrl"]);
            Assert.Equal("Hi", BodyOf(new PromptRequest("Hi", "a", ""), "k").ContainsKey("fileUrl") ? "" : "Hi");
        }

        [Theory]
        [InlineData("naïve café — 日本語 — שלום — 👋🏽")]
        [InlineData("line1\nline2\r\n\t\"quoted\" \\ back\\slash \u0001 \u2028")]
        public void Unicode_quotes_and_control_characters_round_trip(string prompt)
        {
            Assert.Equal(prompt, BodyOf(new PromptRequest(prompt, "a", null), "k")["prompt"]);
        }

        [Fact]
        public void A_key_with_json_special_characters_is_escaped()
        {
            Assert.Equal("k\"ey\\x", BodyOf(new PromptRequest("p", "a", null), "k\"ey\\x")["apiKey"]);
        }

        [Fact]
        public void Key_hint_shows_at_most_four_characters_and_never_the_key()
        {
            var key = Key("cs_live_abcdefghijklmnop");
            Assert.Equal("...mnop", key.Hint);
            Assert.DoesNotContain("cs_live", key.ToString());
            Assert.Equal("****", Key("abc").Hint);
        }

        [Theory]
        [InlineData(null, "app", null, ErrorIds.InvalidPrompt)]
        [InlineData("", "app", null, ErrorIds.InvalidPrompt)]
        [InlineData("  \t\n ", "app", null, ErrorIds.InvalidPrompt)]
        [InlineData("p", null, null, ErrorIds.MissingAppName)]
        [InlineData("p", "bad\u0007app", null, ErrorIds.InvalidAppName)]
        [InlineData("p", "app", "C:\\files\\a.pdf", ErrorIds.InvalidFileUrl)]
        [InlineData("p", "app", "/tmp/a.pdf", ErrorIds.InvalidFileUrl)]
        [InlineData("p", "app", "file:///etc/passwd", ErrorIds.InvalidFileUrl)]
        [InlineData("p", "app", "\\\\server\\share\\a.pdf", ErrorIds.InvalidFileUrl)]
        [InlineData("p", "app", "javascript:alert(1)", ErrorIds.InvalidFileUrl)]
        [InlineData("p", "app", "reports/a.pdf", ErrorIds.InvalidFileUrl)]
        [InlineData("p", "app", "ftp://x.example/a.pdf", ErrorIds.InvalidFileUrl)]
        public void Bad_rows_are_refused_before_sending(string prompt, string app, string file, string errorId)
        {
            var row = new RowInput(0, null, prompt, app, file);
            Assert.Equal(errorId, row.Validate()?.ErrorId);
        }

        [Fact]
        public void A_prompt_with_a_lone_surrogate_is_refused_since_it_cannot_arrive_intact()
        {
            // Built at run time: xunit's theory data would turn a lone surrogate into U+FFFD on the way in.
            foreach (string prompt in new[] { "lone " + '\ud800' + " high", "lone " + '\udc00' + " low", "swapped " + '\udc00' + '\ud800', "end " + '\ud83d' })
                Assert.Equal(ErrorIds.InvalidPrompt, new RowInput(0, null, prompt, "app", null).Validate()?.ErrorId);
            Assert.Null(new RowInput(0, null, "pair " + '\ud83d' + '\udc4b', "app", null).Validate());
        }

        [Theory]
        [InlineData("https://x.example/a.pdf")]
        [InlineData("http://x.example/a b.pdf")]
        [InlineData(null)]
        public void Good_rows_pass(string file)
        {
            Assert.Null(new RowInput(0, null, "مرحبا 👋", "app", file).Validate());
            Assert.Null(new RowInput(0, null, new string('x', 1024 * 1024), "app", null).Validate());
        }

        [Fact]
        public void Row_keys_are_stable_and_fields_cannot_run_together()
        {
            Assert.Equal(RowInput.HashKey("a", "b", null), RowInput.HashKey("a", "b", ""));
            Assert.NotEqual(RowInput.HashKey("ab", "c", null), RowInput.HashKey("a", "bc", null));
        }

        [Theory]
        [InlineData("http://localhost:5000", true)]
        [InlineData("http://127.0.0.1:5000", true)]
        [InlineData("http://127.8.9.10", true)]
        [InlineData("http://[::1]:8080", true)]
        [InlineData("https://calstudio.com", true)]
        [InlineData("http://calstudio.com", false)]
        [InlineData("http://10.0.0.5", false)]
        [InlineData("http://localhost.evil.example", false)]
        [InlineData("ftp://calstudio.com", false)]
        public void Plain_http_only_for_loopback(string uri, bool allowed)
        {
            Assert.Equal(allowed, BaseUriPolicy.Check(new Uri(uri)) == null);
        }

        [Fact]
        public void Endpoint_keeps_a_base_path()
        {
            Assert.Equal("https://calstudio.com/getbackResponse", CalStudioClient.Endpoint(new Uri("https://calstudio.com")).AbsoluteUri);
            Assert.Equal("http://127.0.0.1:9/api/getbackResponse", CalStudioClient.Endpoint(new Uri("http://127.0.0.1:9/api")).AbsoluteUri);
        }
    }
}
