using System;
using System.Collections.Generic;
using CalStudio.Client;
using CalStudio.Client.RateLimitForms;
using Xunit;

namespace CalStudio.Tests
{
    /// <summary>Each rate-limit header form read on its own and through the parser: the forms, garbage, several policies, disagreement.</summary>
    public class RateLimitHeaderTests
    {
        private static readonly DateTimeOffset Now = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

        private static Func<string, string> Headers(params string[] pairs)
        {
            var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            for (int i = 0; i + 1 < pairs.Length; i += 2) map[pairs[i]] = pairs[i + 1];
            return name => map.TryGetValue(name, out var v) ? v : null;
        }

        private static void AssertSnapshot(RateLimitSnapshot s, int? limit, int remaining, double? resetSeconds, double? windowSeconds, RateLimitForm form)
        {
            Assert.NotNull(s);
            Assert.Equal(limit, s.Limit);
            Assert.Equal(remaining, s.Remaining);
            Assert.Equal(resetSeconds, s.Reset.HasValue ? (s.Reset.Value - Now).TotalSeconds : (double?)null);
            Assert.Equal(windowSeconds, s.Window?.TotalSeconds);
            Assert.Equal(form, s.Form);
        }

        [Theory]
        [InlineData("10", "4", "3", null, 10, 4, 3.0, null)]
        [InlineData("10, 10;w=3", "0", "2", null, 10, 0, 2.0, 3.0)]
        [InlineData("10", "7", "1", "10;w=60", 10, 7, 1.0, 60.0)]
        [InlineData(null, "2", null, null, null, 2, null, null)]
        public void Draft6_reads_the_trio_with_reset_in_seconds_from_now(string limit, string remaining, string reset, string policy,
                                                                         int? eLimit, int eRemaining, double? eReset, double? eWindow)
        {
            var s = new Draft6Form().Read(Headers("RateLimit-Limit", limit, "RateLimit-Remaining", remaining, "RateLimit-Reset", reset, "RateLimit-Policy", policy), Now);
            AssertSnapshot(s, eLimit, eRemaining, eReset, eWindow, RateLimitForm.Draft6);
        }

        [Theory]
        [InlineData("limit=10, remaining=0, reset=3", "10;w=3", 10, 0, 3.0, 3.0)]
        [InlineData("remaining=5, reset=2, limit=10, foo=bar;baz", "10;w=3;comment=\"a, b\"", 10, 5, 2.0, 3.0)]
        [InlineData("remaining=5", "100;w=60, 10;w=1", 100, 5, null, 60.0)]
        [InlineData("limit=10, remaining=9, reset=1", null, 10, 9, 1.0, null)]
        public void Draft7_reads_the_combined_header_and_the_policy(string rateLimit, string policy, int? eLimit, int eRemaining, double? eReset, double? eWindow)
        {
            var s = new Draft7Form().Read(Headers("RateLimit", rateLimit, "RateLimit-Policy", policy), Now);
            AssertSnapshot(s, eLimit, eRemaining, eReset, eWindow, RateLimitForm.Draft7);
        }

        [Theory]
        [InlineData("\"default\";r=0;t=3", "\"default\";q=10;w=3", 10, 0, 3.0, 3.0)]
        [InlineData("\"default\";r=4;t=2;extra=1", "\"default\";q=10;w=3;pk=:abc=:", 10, 4, 2.0, 3.0)]
        // Several named policies: the tightest (fewest left) is obeyed, with its own quota and window.
        [InlineData("\"burst\";r=8;t=1, \"minute\";r=2;t=40", "\"burst\";q=10;w=1, \"minute\";q=100;w=60", 100, 2, 40.0, 60.0)]
        [InlineData("\"day\";r=900;t=5000, \"second\";r=1;t=1", "\"second\";q=5;w=1, \"day\";q=1000;w=86400", 5, 1, 1.0, 1.0)]
        // The same remaining: the later reset is the more restrictive.
        [InlineData("a;r=3;t=1, b;r=3;t=9", "a;q=5;w=1, b;q=50;w=10", 50, 3, 9.0, 10.0)]
        [InlineData("\"unmatched\";r=6;t=2", "\"other\";q=10;w=3", null, 6, 2.0, null)]
        public void Draft8_reads_structured_fields_and_obeys_the_tightest_policy(string rateLimit, string policy, int? eLimit, int eRemaining, double? eReset, double? eWindow)
        {
            var s = new Draft8Form().Read(Headers("RateLimit", rateLimit, "RateLimit-Policy", policy), Now);
            AssertSnapshot(s, eLimit, eRemaining, eReset, eWindow, RateLimitForm.Draft8);
        }

        [Theory]
        [InlineData("RateLimit", "limit=ten, remaining=-1, reset=soon")]
        [InlineData("RateLimit", "\"unterminated;r=0;t=3")]
        [InlineData("RateLimit", ";;;,,,===")]
        [InlineData("RateLimit", "\"default\";r=-4;t=x")]
        [InlineData("RateLimit", "\"default\";r=99999999999999999999")]
        [InlineData("RateLimit-Remaining", "lots")]
        [InlineData("RateLimit-Remaining", "limit=3")]
        [InlineData("X-RateLimit-Remaining", "1e400")]
        [InlineData("RateLimit-Policy", "\"default\";q=10;w=3")]
        public void Garbage_is_ignored_never_an_error(string name, string value)
        {
            Assert.Null(RateLimitHeaders.Read(Headers(name, value), Now));
            var outcome = ResponseParser.Parse(200, "application/json", "{\"success\":true,\"message\":\"ok\"}", Headers(name, value));
            Assert.Equal(OutcomeKind.Success, outcome.Kind);
            Assert.Null(outcome.RateLimit);
        }

        [Fact]
        public void Garbage_in_one_form_leaves_another_form_read()
        {
            var s = RateLimitHeaders.Read(Headers("RateLimit", "remaining=banana", "X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "3", "X-RateLimit-Reset", "2"), Now);
            AssertSnapshot(s, 10, 3, 2.0, null, RateLimitForm.XRateLimit);
        }

        [Theory]
        [InlineData("5", "\"default\";r=2;t=3", 2, RateLimitForm.Draft8)]
        [InlineData("1", "\"default\";r=2;t=3", 1, RateLimitForm.XRateLimit)]
        public void When_forms_disagree_the_most_restrictive_wins(string xRemaining, string draft8, int eRemaining, RateLimitForm eForm)
        {
            var s = RateLimitHeaders.Read(Headers("X-RateLimit-Limit", "10", "X-RateLimit-Remaining", xRemaining, "X-RateLimit-Reset", "3",
                                                  "RateLimit", draft8, "RateLimit-Policy", "\"default\";q=10;w=3"), Now);
            Assert.Equal(eRemaining, s.Remaining);
            Assert.Equal(eForm, s.Form);
        }

        [Theory]
        [InlineData(503, "text/html", "<html><title>503 Service Temporarily Unavailable</title></html>", null, 5, true)]
        [InlineData(503, "text/html", "<html>busy</html>", "2", 5, false)]          // a Retry-After: the app asks for time
        [InlineData(503, "application/json", "{\"error\":{\"code\":\"unavailable\",\"message\":\"down\"}}", null, 5, false)]
        [InlineData(503, "text/html", "<html>slow</html>", null, 3000, false)]      // not at once: the app failing
        [InlineData(429, "application/json", "{\"error\":{\"code\":\"rate_limit_exceeded\",\"message\":\"x\"}}", null, 5, true)]
        [InlineData(429, "application/json", "{\"error\":{\"code\":\"daily_quota_exceeded\",\"message\":\"x\"}}", null, 5, false)]
        [InlineData(500, "text/html", "<html>oops</html>", null, 5, false)]
        public void A_refusal_is_a_429_or_an_immediate_bare_503(int status, string type, string body, string retryAfter, int ms, bool refusal)
        {
            var o = ResponseParser.Parse(status, type, body, Headers("Retry-After", retryAfter), TimeSpan.FromMilliseconds(ms));
            Assert.Equal(refusal, o.IsRefusal);
            if (refusal) { Assert.Equal(ErrorIds.RateLimited, o.ErrorId); Assert.Equal(OutcomeKind.Transient, o.Kind); Assert.Equal(status, o.StatusCode); }
            else if (status == 503) Assert.Equal(ErrorIds.ServerError, o.ErrorId);
        }
    }
}
