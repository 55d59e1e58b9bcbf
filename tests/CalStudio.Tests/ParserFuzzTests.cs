using System;
using System.Collections.Generic;
using System.Text;
using CalStudio.Client;
using Xunit;

namespace CalStudio.Tests
{
    /// <summary>Random and mutated bodies, fixed seed: the parser only ever returns a result or a typed failure.</summary>
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
                if (outcome.Kind == OutcomeKind.Success)
                {
                    Assert.Equal(200, status);
                    Assert.NotNull(outcome.Message);
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

        private static string RandomText(Random r)
        {
            const string alphabet = "{}[]\":,\\ntrufalse0123456789.-eE \u00e9\ud83d\ude00<>/abc";
            var sb = new StringBuilder();
            int n = r.Next(0, 60);
            for (int i = 0; i < n; i++) sb.Append(alphabet[r.Next(alphabet.Length)]);
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
