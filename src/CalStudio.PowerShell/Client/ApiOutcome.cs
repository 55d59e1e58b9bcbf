using System;

namespace CalStudio.Client
{
    /// <summary>How one HTTP attempt ended, as far as retrying and error reporting care.</summary>
    public enum OutcomeKind
    {
        /// <summary>HTTP 200 with success: true and a message.</summary>
        Success,
        /// <summary>Worth another attempt: 429 per-minute limit, 5xx, dropped connection, timeout.</summary>
        Transient,
        /// <summary>The request itself is wrong (400, 404, success:false for the prompt): retrying cannot help.</summary>
        Permanent,
        /// <summary>401 or 403: every further row would fail the same way, so the batch stops.</summary>
        KeyRejected,
        /// <summary>The daily quota is spent: the batch stops and says how to resume.</summary>
        QuotaExhausted,
        /// <summary>Not attempted because the batch was stopping (Ctrl+C); a rerun sends it.</summary>
        NotSent,
    }

    /// <summary>The result of one attempt (or of the last attempt, after retries).</summary>
    public sealed class ApiOutcome
    {
        public OutcomeKind Kind { get; set; }

        /// <summary>Stable ErrorId for the error record, such as ApiServerError; null on success.</summary>
        public string ErrorId { get; set; }

        /// <summary>HTTP status, or 0 when no answer came (dropped connection, timeout).</summary>
        public int StatusCode { get; set; }

        public string Message { get; set; }

        /// <summary>The API's error code from its envelope (invalid_api_key, ...), when it gave one.</summary>
        public string ApiErrorCode { get; set; }

        /// <summary>A sentence that says what went wrong, for the error record.</summary>
        public string ErrorMessage { get; set; }

        public string RequestId { get; set; }
        public TimeSpan? RetryAfter { get; set; }
        public RateLimitSnapshot RateLimit { get; set; }

        public bool IsSuccess => Kind == OutcomeKind.Success;

        internal static ApiOutcome Failure(OutcomeKind kind, string errorId, int status, string errorMessage, string apiCode = null, string requestId = null) =>
            new ApiOutcome { Kind = kind, ErrorId = errorId, StatusCode = status, ErrorMessage = errorMessage, ApiErrorCode = apiCode, RequestId = requestId };
    }

    /// <summary>What the X-RateLimit-* headers of one answer said.</summary>
    public sealed class RateLimitSnapshot
    {
        public int? Limit { get; set; }
        public int? Remaining { get; set; }
        public DateTimeOffset? Reset { get; set; }
        public DateTimeOffset ObservedAt { get; set; }
    }
}
