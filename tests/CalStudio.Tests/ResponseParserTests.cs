using System;
using System.Collections.Generic;
using CalStudio.Client;
using Xunit;

namespace CalStudio.Tests
{
    public class ResponseParserTests
    {
        private static ApiOutcome Parse(int status, string body, string contentType = "application/json", Dictionary<string, string> headers = null)
            => ResponseParser.Parse(status, contentType, body, name => headers != null && headers.TryGetValue(name, out var v) ? v : null);

        [Fact]
        public void Success_body_gives_the_message()
        {
            var o = Parse(200, "{\"message\":\"Bonjour 👋\\n\\\"q\\\"\",\"status\":200,\"success\":true}");
            Assert.Equal(OutcomeKind.Success, o.Kind);
            Assert.Equal("Bonjour 👋\n\"q\"", o.Message);
            Assert.Null(o.ErrorId);
        }

        [Theory]
        [InlineData(400, "invalid_request", OutcomeKind.Permanent, ErrorIds.BadRequest)]
        [InlineData(401, "invalid_api_key", OutcomeKind.KeyRejected, ErrorIds.KeyRejected)]
        [InlineData(403, "forbidden", OutcomeKind.Permanent, ErrorIds.Forbidden)]
        [InlineData(404, "app_not_found", OutcomeKind.Permanent, ErrorIds.NotFound)]
        [InlineData(429, "rate_limit_exceeded", OutcomeKind.Transient, ErrorIds.RateLimited)]
        [InlineData(429, "daily_quota_exceeded", OutcomeKind.QuotaExhausted, ErrorIds.DailyQuotaExhausted)]
        [InlineData(500, "internal_error", OutcomeKind.Transient, ErrorIds.ServerError)]
        [InlineData(503, "unavailable", OutcomeKind.Transient, ErrorIds.ServerError)]
        public void Error_envelope_maps_to_kind_and_error_id(int status, string code, OutcomeKind kind, string errorId)
        {
            var o = Parse(status, "{\"error\":{\"code\":\"" + code + "\",\"message\":\"Nope.\",\"request_id\":\"req_123abc\"}}");
            Assert.Equal(kind, o.Kind);
            Assert.Equal(errorId, o.ErrorId);
            Assert.Equal(code, o.ApiErrorCode);
            Assert.Equal("req_123abc", o.RequestId);
            Assert.Equal(status, o.StatusCode);
            Assert.Contains("Nope", o.ErrorMessage);
        }

        [Fact]
        public void Html_502_is_a_transient_server_error_naming_the_page()
        {
            var o = Parse(502, "<html><head><title>502 Bad Gateway</title></head><body>x</body></html>", "text/html");
            Assert.Equal(OutcomeKind.Transient, o.Kind);
            Assert.Equal(ErrorIds.ServerError, o.ErrorId);
            Assert.Contains("502 Bad Gateway", o.ErrorMessage);
            Assert.Contains("HTML", o.ErrorMessage);
        }

        [Theory]
        [InlineData("", ErrorIds.InvalidResponse, "empty")]
        [InlineData("this is not json", ErrorIds.InvalidResponse, "not a JSON object")]
        [InlineData("{\"message\":\"cut", ErrorIds.InvalidResponse, "not a JSON object")]
        public void Unreadable_200_bodies_are_invalid_responses(string body, string errorId, string words)
        {
            var o = Parse(200, body);
            Assert.Equal(errorId, o.ErrorId);
            Assert.Contains(words, o.ErrorMessage);
            Assert.False(o.IsSuccess);
        }

        [Fact]
        public void Wrong_types_are_refused_not_coerced()
        {
            var o = Parse(200, "{\"message\":42,\"status\":\"200\",\"success\":\"yes\"}");
            Assert.Equal(ErrorIds.InvalidResponse, o.ErrorId);
            Assert.Contains("success", o.ErrorMessage);
            var noMessage = Parse(200, "{\"status\":200,\"success\":true}");
            Assert.Equal(ErrorIds.InvalidResponse, noMessage.ErrorId);
            Assert.Contains("message", noMessage.ErrorMessage);
        }

        [Fact]
        public void Success_false_is_permanent_unless_the_app_reports_a_server_status()
        {
            var plain = Parse(200, "{\"message\":\"The app could not process this prompt.\",\"status\":422,\"success\":false}");
            Assert.Equal(OutcomeKind.Permanent, plain.Kind);
            Assert.Equal(ErrorIds.Unsuccessful, plain.ErrorId);
            Assert.Contains("could not process", plain.ErrorMessage);
            var noStatus = Parse(200, "{\"message\":\"no\",\"success\":false}");
            Assert.Equal(OutcomeKind.Permanent, noStatus.Kind);
            var server = Parse(200, "{\"message\":\"busy\",\"status\":500,\"success\":false}");
            Assert.Equal(OutcomeKind.Transient, server.Kind);
        }

        [Fact]
        public void Redirect_is_refused_and_names_the_target()
        {
            var o = Parse(307, "", headers: new Dictionary<string, string> { ["Location"] = "https://evil.example/collect" });
            Assert.Equal(ErrorIds.RedirectRefused, o.ErrorId);
            Assert.Contains("https://evil.example/collect", o.ErrorMessage);
            Assert.Equal(OutcomeKind.Permanent, o.Kind);
        }

        [Fact]
        public void Rate_limit_headers_and_retry_after_are_read()
        {
            var o = Parse(429, "{\"error\":{\"code\":\"rate_limit_exceeded\",\"message\":\"slow down\"}}", headers: new Dictionary<string, string>
            {
                ["Retry-After"] = "7", ["X-RateLimit-Limit"] = "60", ["X-RateLimit-Remaining"] = "0", ["X-RateLimit-Reset"] = "1900000000",
            });
            Assert.Equal(TimeSpan.FromSeconds(7), o.RetryAfter);
            Assert.Equal(60, o.RateLimit.Limit);
            Assert.Equal(0, o.RateLimit.Remaining);
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1900000000), o.RateLimit.Reset);
        }

        [Fact]
        public void Retry_after_reads_seconds_and_http_dates()
        {
            var now = new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);
            Assert.Equal(TimeSpan.FromSeconds(120), RetryAfter.Parse("120", now));
            Assert.Equal(TimeSpan.FromSeconds(30), RetryAfter.Parse(now.AddSeconds(30).ToString("r"), now));
            Assert.Equal(TimeSpan.Zero, RetryAfter.Parse(now.AddSeconds(-30).ToString("r"), now));
            Assert.Null(RetryAfter.Parse("soon", now));
            Assert.Null(RetryAfter.Parse(null, now));
        }
    }
}
