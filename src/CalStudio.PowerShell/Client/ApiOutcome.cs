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
        /// <summary>The request itself is wrong (400, 403, 404, success:false for the prompt): retrying cannot help.</summary>
        Permanent,
        /// <summary>401: every further row would fail the same way, so the batch stops.</summary>
        KeyRejected,
        /// <summary>The daily quota is spent: the batch stops and says how to resume.</summary>
        QuotaExhausted,
    }

    /// <summary>The result of one attempt (or of the last attempt, after retries). Built once; a change makes a new value.</summary>
    public sealed class ApiOutcome
    {
        public OutcomeKind Kind { get; init; }

        /// <summary>Stable ErrorId for the error record, such as ApiServerError; null on success.</summary>
        public string ErrorId { get; init; }

        /// <summary>HTTP status, or 0 when no answer came (dropped connection, timeout).</summary>
        public int StatusCode { get; init; }

        public string Message { get; init; }

        /// <summary>The API's error code from its envelope (invalid_api_key, ...), when it gave one.</summary>
        public string ApiErrorCode { get; init; }

        /// <summary>A sentence that says what went wrong, for the error record.</summary>
        public string ErrorMessage { get; init; }

        public string RequestId { get; init; }
        public TimeSpan? RetryAfter { get; init; }
        public RateLimitSnapshot RateLimit { get; init; }

        /// <summary>The rate limiter refused the request: a 429 (not a spent daily quota), or a proxy limiter's page (<see cref="RefusalRule"/>).</summary>
        public bool IsRefusal { get; init; }

        /// <summary>The transport's own exception (a socket or TLS failure), kept as the error record's InnerException.</summary>
        public Exception Cause { get; init; }

        public bool IsSuccess => Kind == OutcomeKind.Success;

        /// <param name="kind">Only where the table's usual kind does not hold (an empty 200 is retried, say).</param>
        internal static ApiOutcome Failure(string errorId, int status, string errorMessage, string apiCode = null, string requestId = null,
                                           Exception cause = null, OutcomeKind? kind = null) =>
            new ApiOutcome
            {
                Kind = kind ?? ErrorIds.Info(errorId).Kind, ErrorId = errorId, StatusCode = status, ErrorMessage = errorMessage,
                ApiErrorCode = apiCode, RequestId = requestId, Cause = cause,
            };

        /// <summary>The same answer counted as another failure (a Retry-After too long to wait is a spent quota).</summary>
        internal ApiOutcome As(string errorId, string errorMessage) => Copy(ErrorIds.Info(errorId).Kind, errorId, errorMessage, RequestId, RateLimit, RetryAfter);

        /// <summary>The same answer with what its headers said.</summary>
        internal ApiOutcome WithHeaders(string requestId, RateLimitSnapshot rateLimit, TimeSpan? retryAfter) =>
            Copy(Kind, ErrorId, ErrorMessage, RequestId ?? requestId, rateLimit ?? RateLimit, retryAfter ?? RetryAfter);

        private ApiOutcome Copy(OutcomeKind kind, string errorId, string errorMessage, string requestId, RateLimitSnapshot rateLimit, TimeSpan? retryAfter) =>
            new ApiOutcome
            {
                Kind = kind, ErrorId = errorId, ErrorMessage = errorMessage, StatusCode = StatusCode, Message = Message,
                ApiErrorCode = ApiErrorCode, RequestId = requestId, RetryAfter = retryAfter, RateLimit = rateLimit, Cause = Cause,
                IsRefusal = IsRefusal && kind == OutcomeKind.Transient,
            };

        /// <summary>A proxy's 503 page taken for the app's connection limit, not a rate limiter's refusal (<see cref="Quota.OverloadTell"/>).</summary>
        internal ApiOutcome AsOverload(int besideOnWire) =>
            new ApiOutcome
            {
                Kind = OutcomeKind.Transient, ErrorId = ErrorIds.ServerError, StatusCode = StatusCode, Message = Message,
                ApiErrorCode = ApiErrorCode, RequestId = RequestId, RetryAfter = RetryAfter, RateLimit = RateLimit, Cause = Cause,
                ErrorMessage = "HTTP " + StatusCode + ": a proxy's page, answered at once with " + besideOnWire +
                               " other requests on the wire, more than answers pass with: the app is overloaded, so fewer go at a time.",
            };

        /// <summary>The same answer as a rate limiter's refusal, with the ErrorId and words of one.</summary>
        internal ApiOutcome AsRefusal(string errorMessage) =>
            new ApiOutcome
            {
                Kind = OutcomeKind.Transient, ErrorId = ErrorIds.RateLimited, ErrorMessage = errorMessage, StatusCode = StatusCode, Message = Message,
                ApiErrorCode = ApiErrorCode, RequestId = RequestId, RetryAfter = RetryAfter, RateLimit = RateLimit, Cause = Cause, IsRefusal = true,
            };
    }

    /// <summary>What the rate-limit headers of one answer said (the tightest of the forms it carried).</summary>
    public sealed class RateLimitSnapshot
    {
        /// <summary>The window a policy header declared (w=), when one did.</summary>
        public TimeSpan? Window { get; init; }
        public RateLimitForms.RateLimitForm Form { get; init; }
        public int? Limit { get; init; }
        public int? Remaining { get; init; }
        public DateTimeOffset? Reset { get; init; }
        public DateTimeOffset ObservedAt { get; init; }
    }
}
