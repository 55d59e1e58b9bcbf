using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace CalStudio.Client
{
    /// <summary>
    /// Turns one HTTP answer (status, headers, body) into an <see cref="ApiOutcome"/>. Pure and total: whatever
    /// the server sends, it returns an outcome and never throws, so a hostile or broken server costs one row's error.
    /// </summary>
    public static class ResponseParser
    {
        /// <param name="answeredIn">How long the answer took (null: not measured), for telling a proxy limiter's refusal from an app's failure.</param>
        public static ApiOutcome Parse(int status, string contentType, string body, Func<string, string> header, TimeSpan? answeredIn = null)
        {
            ApiOutcome outcome;
            try { outcome = RefusalRule.Apply(ParseCore(status, contentType, body ?? string.Empty, header ?? (_ => null)), body, answeredIn); }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                outcome = ApiOutcome.Failure(ErrorIds.InvalidResponse, status,
                    "The API's answer could not be read: " + ex.Message);
            }
            return outcome.WithHeaders(Safe(() => header?.Invoke("X-Request-Id")), Safe(() => RateLimitForms.RateLimitHeaders.Read(header, DateTimeOffset.UtcNow)), null);
        }

        private static ApiOutcome ParseCore(int status, string contentType, string body, Func<string, string> header)
        {
            Dictionary<string, object> json = null;
            if (body.Length > 0 && Json.TryParse(body, out object parsed)) json = parsed as Dictionary<string, object>;

            if (status >= 300 && status < 400)
            {
                string location = header("Location");
                return ApiOutcome.Failure(ErrorIds.RedirectRefused, status,
                    "The API answered HTTP " + status + " redirecting to '" + (location ?? "(no Location)") +
                    "'. Redirects are not followed because the key travels in the request body; check -BaseUri.");
            }

            if (status == 200)
                return ParseSuccessBody(body, json, contentType);

            return ParseErrorStatus(status, body, json, contentType, header);
        }

        private static ApiOutcome ParseSuccessBody(string body, Dictionary<string, object> json, string contentType)
        {
            if (body.Length == 0)
                return ApiOutcome.Failure(ErrorIds.InvalidResponse, 200, "The API answered HTTP 200 with an empty body.", kind: OutcomeKind.Transient);
            if (json == null)
                return ApiOutcome.Failure(ErrorIds.InvalidResponse, 200,
                    "The API answered HTTP 200 with a body that is not a JSON object" + DescribeBody(body, contentType) + ".", kind: OutcomeKind.Transient);

            json.TryGetValue("success", out object successValue);
            json.TryGetValue("message", out object messageValue);
            if (json.TryGetValue("error", out object errorValue) && errorValue is Dictionary<string, object>)
                return FromEnvelope(200, (Dictionary<string, object>)errorValue);

            if (successValue is bool success && !success)
            {
                int reported = json.TryGetValue("status", out object st) ? AsStatus(st) : 0;
                // A failure the app reports with a 5xx status is the server's trouble (retry); anything else is about the request.
                var kind = reported >= 500 ? OutcomeKind.Transient : OutcomeKind.Permanent;
                string text = messageValue as string;
                return new ApiOutcome
                {
                    Kind = kind, ErrorId = ErrorIds.Unsuccessful, StatusCode = 200, Message = text,
                    ErrorMessage = "The app did not answer the prompt (success: false" + (reported > 0 ? ", status " + reported : "") + ")" +
                                   (string.IsNullOrEmpty(text) ? "." : ": " + text),
                };
            }

            if (!(successValue is bool))
                return ApiOutcome.Failure(ErrorIds.InvalidResponse, 200,
                    "The API's answer has no boolean 'success' field (got " + TypeName(successValue) + ").");
            if (!(messageValue is string message))
                return ApiOutcome.Failure(ErrorIds.InvalidResponse, 200,
                    "The API's answer has no string 'message' field (got " + TypeName(messageValue) + ").");

            return new ApiOutcome { Kind = OutcomeKind.Success, StatusCode = 200, Message = message };
        }

        private static ApiOutcome ParseErrorStatus(int status, string body, Dictionary<string, object> json, string contentType, Func<string, string> header)
        {
            ApiOutcome outcome;
            if (json != null && json.TryGetValue("error", out object err) && err is Dictionary<string, object> envelope)
                outcome = FromEnvelope(status, envelope);
            else
            {
                string apiText = json != null && json.TryGetValue("message", out object m) ? m as string : null;
                outcome = ApiOutcome.Failure(ErrorIds.ForStatus(status, null), status,
                    "The API answered HTTP " + status + (apiText != null ? ": " + apiText : DescribeBody(body, contentType)) + ".");
            }

            return outcome.WithHeaders(null, null, RetryAfter.Parse(header("Retry-After"), DateTimeOffset.UtcNow));
        }

        private static ApiOutcome FromEnvelope(int status, Dictionary<string, object> envelope)
        {
            string code = envelope.TryGetValue("code", out object c) ? c as string : null;
            string text = envelope.TryGetValue("message", out object m) ? m as string : null;
            string requestId = envelope.TryGetValue("request_id", out object r) ? r as string : null;
            var sb = new StringBuilder("The API refused the request: HTTP ").Append(status);
            if (code != null) sb.Append(" ").Append(code);
            if (text != null) sb.Append(": ").Append(text.TrimEnd('.')).Append('.');
            else sb.Append('.');
            return ApiOutcome.Failure(ErrorIds.ForStatus(status, code), status, sb.ToString(), code, requestId);
        }

        internal static bool IsDailyQuotaCode(string code) =>
            code != null && (code.IndexOf("daily", StringComparison.OrdinalIgnoreCase) >= 0 || code.IndexOf("quota", StringComparison.OrdinalIgnoreCase) >= 0);

        private static int AsStatus(object value)
        {
            if (value is double d && d >= 100 && d < 600) return (int)d;
            if (value is string s && int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) && i >= 100 && i < 600) return i;
            return 0;
        }

        private static string TypeName(object value) =>
            value == null ? "nothing" : value is string ? "a string" : value is double ? "a number" : value is bool ? "a boolean" : "a " + value.GetType().Name;

        private static string DescribeBody(string body, string contentType)
        {
            if (body.Length == 0) return " with an empty body";
            bool html = (contentType ?? "").IndexOf("html", StringComparison.OrdinalIgnoreCase) >= 0 ||
                        body.TrimStart().StartsWith("<", StringComparison.Ordinal);
            if (html)
            {
                string title = ExtractTitle(body);
                return " with an HTML page" + (title != null ? " ('" + title + "')" : "") + " instead of JSON";
            }
            return " with a body that is not the documented JSON ('" + Shorten(body, 80) + "')";
        }

        private static string ExtractTitle(string html)
        {
            int start = html.IndexOf("<title>", StringComparison.OrdinalIgnoreCase);
            if (start < 0) return null;
            start += 7;
            int end = html.IndexOf("</title>", start, StringComparison.OrdinalIgnoreCase);
            return end > start ? Shorten(html.Substring(start, end - start).Trim(), 80) : null;
        }

        internal static string Shorten(string text, int max)
        {
            var flat = text.Replace('\r', ' ').Replace('\n', ' ');
            return flat.Length <= max ? flat : flat.Substring(0, max) + "…";
        }

        private static T Safe<T>(Func<T> f) where T : class
        {
            try { return f(); } catch (Exception) { return null; }
        }
    }

    /// <summary>Reads Retry-After in either of its forms: delta seconds or an HTTP date.</summary>
    public static class RetryAfter
    {
        public static TimeSpan? Parse(string value, DateTimeOffset now)
        {
            if (string.IsNullOrWhiteSpace(value)) return null;
            value = value.Trim();
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds))
                return seconds >= 0 && seconds < 1e8 ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
            if (DateTimeOffset.TryParseExact(value, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset when)
                || DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out when))
            {
                var delta = when - now;
                return delta > TimeSpan.Zero ? delta : TimeSpan.Zero;
            }
            return null;
        }
    }
}
