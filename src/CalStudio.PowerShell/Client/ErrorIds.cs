using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace CalStudio.Client
{
    /// <summary>What one ErrorId means to a script: its category, whether it was retried, and how the batch treats it.</summary>
    public sealed class ErrorIdInfo
    {
        internal ErrorIdInfo(string id, ErrorCategory category, OutcomeKind kind, string meaning)
        {
            Id = id;
            Category = category;
            Kind = kind;
            Meaning = meaning;
        }

        public string Id { get; }
        public ErrorCategory Category { get; }
        /// <summary>For API outcomes: how the engine treats it. Transient ids are the retried ones.</summary>
        public OutcomeKind Kind { get; }
        public bool Retried => Kind == OutcomeKind.Transient;
        /// <summary>The line about_CalStudio gives it.</summary>
        public string Meaning { get; }
    }

    /// <summary>
    /// The ErrorIds the module writes, and the one table that says what each means. They are part of the interface:
    /// scripts and tests match on "Id,CalStudio.Commands.&lt;Cmdlet&gt;Command" in FullyQualifiedErrorId, so never rename one.
    /// Every error record takes its category from <see cref="Info"/>; an id missing from the table is a bug that fails fast.
    /// </summary>
    public static class ErrorIds
    {
        // Input rows, checked before anything is sent.
        public const string InvalidPrompt = "InvalidPrompt";
        public const string InvalidFileUrl = "InvalidFileUrl";
        public const string InvalidAppName = "InvalidAppName";
        public const string MissingAppName = "MissingAppName";
        public const string EmptyRowKey = "EmptyRowKey";
        public const string DuplicateRowKey = "DuplicateRowKey";

        // Answers from the API, per row.
        public const string BadRequest = "ApiBadRequest";
        public const string Forbidden = "ApiForbidden";
        public const string NotFound = "ApiNotFound";
        public const string Unsuccessful = "ApiUnsuccessful";
        public const string ServerError = "ApiServerError";
        public const string UnexpectedStatus = "ApiUnexpectedStatus";
        public const string InvalidResponse = "ApiInvalidResponse";
        public const string ResponseTooLarge = "ApiResponseTooLarge";
        public const string RateLimited = "ApiRateLimited";
        public const string RedirectRefused = "ApiRedirectRefused";
        public const string Timeout = "ApiTimeout";
        public const string ConnectionFailed = "ApiConnectionFailed";
        public const string TlsFailure = "ApiTlsFailure";
        public const string Unexpected = "UnexpectedFailure";
        public const string AnswerNotValid = "AnswerNotValid";

        // Whole-batch stops.
        public const string KeyRejected = "ApiKeyRejected";
        public const string DailyQuotaExhausted = "DailyQuotaExhausted";
        public const string KeyPropertyNotFound = "KeyPropertyNotFound";
        public const string ProxyAuthenticationRequired = "ProxyAuthenticationRequired";
        public const string ApiUnreachable = "ApiUnreachable";
        public const string TemplateColumnNotFound = "TemplateColumnNotFound";
        public const string InvalidResponseSchema = "InvalidResponseSchema";

        // Session and connection.
        public const string NotConnected = "NotConnected";
        public const string NoApiKey = "NoApiKey";
        public const string InsecureBaseUri = "InsecureBaseUri";
        public const string InvalidBaseUri = "InvalidBaseUri";
        public const string InsecureProxy = "InsecureProxy";
        public const string InvalidProxy = "InvalidProxy";

        // Journal.
        public const string JournalKeyMismatch = "JournalKeyMismatch";
        public const string JournalUnreadable = "JournalUnreadable";
        public const string JournalInUse = "JournalInUse";
        public const string NotAJournal = "NotAJournal";
        public const string JournalWriteFailed = "JournalWriteFailed";

        private static readonly ErrorIdInfo[] Rows =
        {
            Row(InvalidPrompt, ErrorCategory.InvalidArgument, OutcomeKind.Permanent, "The row has no usable prompt: none, empty, not text, or a template column missing."),
            Row(InvalidFileUrl, ErrorCategory.InvalidArgument, OutcomeKind.Permanent, "FileUrl is not an absolute http(s) URL."),
            Row(InvalidAppName, ErrorCategory.InvalidArgument, OutcomeKind.Permanent, "The app name contains a control character."),
            Row(MissingAppName, ErrorCategory.InvalidArgument, OutcomeKind.Permanent, "No app name: no -AppName, column or default."),
            Row(EmptyRowKey, ErrorCategory.InvalidData, OutcomeKind.Permanent, "The row's -KeyProperty value (every column of a composite key) is empty."),
            Row(DuplicateRowKey, ErrorCategory.InvalidData, OutcomeKind.Permanent, "The row's -KeyProperty value was already used in this run for another request."),

            Row(BadRequest, ErrorCategory.InvalidArgument, OutcomeKind.Permanent, "HTTP 400: the API refused the request."),
            Row(Forbidden, ErrorCategory.PermissionDenied, OutcomeKind.Permanent, "HTTP 403: the key may not use this app or request."),
            Row(NotFound, ErrorCategory.ObjectNotFound, OutcomeKind.Permanent, "HTTP 404: no such app (or endpoint)."),
            Row(Unsuccessful, ErrorCategory.InvalidOperation, OutcomeKind.Permanent, "HTTP 200 but the app reported success: false."),
            Row(ServerError, ErrorCategory.ResourceUnavailable, OutcomeKind.Transient, "HTTP 5xx, still failing after the retries."),
            Row(UnexpectedStatus, ErrorCategory.InvalidResult, OutcomeKind.Permanent, "Another unexpected HTTP status."),
            Row(InvalidResponse, ErrorCategory.InvalidResult, OutcomeKind.Permanent, "The answer could not be read (not JSON, or no 'success' and 'message')."),
            Row(ResponseTooLarge, ErrorCategory.InvalidResult, OutcomeKind.Permanent, "The answer was larger than the size limit."),
            Row(RateLimited, ErrorCategory.LimitsExceeded, OutcomeKind.Transient, "HTTP 429, still limited after the retries."),
            Row(RedirectRefused, ErrorCategory.ConnectionError, OutcomeKind.Permanent, "HTTP 3xx: redirects are not followed (the key travels in the request)."),
            Row(Timeout, ErrorCategory.OperationTimeout, OutcomeKind.Transient, "No answer within -TimeoutSec, after retries."),
            Row(ConnectionFailed, ErrorCategory.ConnectionError, OutcomeKind.Transient, "The connection failed or dropped, after retries."),
            Row(TlsFailure, ErrorCategory.SecurityError, OutcomeKind.Permanent, "The server's TLS certificate is not trusted."),
            Row(Unexpected, ErrorCategory.NotSpecified, OutcomeKind.Permanent, "A fault in the module itself; it cost this row only."),
            Row(AnswerNotValid, ErrorCategory.InvalidResult, OutcomeKind.Permanent, "-ResponseFormat Json: no usable JSON in the answer, or it fails -ResponseSchema, after -MaxReasks re-asks."),

            Row(KeyRejected, ErrorCategory.AuthenticationError, OutcomeKind.KeyRejected, "HTTP 401 (or 403 for every request): the key was rejected."),
            Row(DailyQuotaExhausted, ErrorCategory.LimitsExceeded, OutcomeKind.QuotaExhausted, "The daily quota is spent; the message says how to resume."),
            Row(KeyPropertyNotFound, ErrorCategory.InvalidArgument, OutcomeKind.Permanent, "The first row has no -KeyProperty column."),
            Row(ProxyAuthenticationRequired, ErrorCategory.AuthenticationError, OutcomeKind.KeyRejected, "HTTP 407: the proxy refused the request; give -ProxyCredential. Never retried."),
            Row(ApiUnreachable, ErrorCategory.ConnectionError, OutcomeKind.Permanent, "8 rows in a row failed on transport or 5xx after their retries; the message says how to resume."),
            Row(TemplateColumnNotFound, ErrorCategory.InvalidArgument, OutcomeKind.Permanent, "The first row lacks a column -PromptTemplate names; nothing was sent."),
            Row(InvalidResponseSchema, ErrorCategory.InvalidArgument, OutcomeKind.Permanent, "-ResponseSchema is not valid JSON, or uses a keyword outside the supported subset."),

            Row(NotConnected, ErrorCategory.ConnectionError, OutcomeKind.Permanent, "No session: run Connect-CalStudio first."),
            Row(NoApiKey, ErrorCategory.AuthenticationError, OutcomeKind.Permanent, "No key from -ApiKey or CALSTUDIO_API_KEY, and no way to prompt."),
            Row(InsecureBaseUri, ErrorCategory.SecurityError, OutcomeKind.Permanent, "Plain http to a host that is not loopback."),
            Row(InvalidBaseUri, ErrorCategory.InvalidArgument, OutcomeKind.Permanent, "-BaseUri is not an absolute https (or loopback http) URI."),
            Row(InsecureProxy, ErrorCategory.SecurityError, OutcomeKind.Permanent, "A plain http -BaseUri through a proxy that is not on loopback."),
            Row(InvalidProxy, ErrorCategory.InvalidArgument, OutcomeKind.Permanent, "-Proxy is not a proxy URL, or has user info as well as -ProxyCredential."),

            Row(JournalKeyMismatch, ErrorCategory.InvalidData, OutcomeKind.Permanent, "The journal was written with another -KeyProperty."),
            Row(JournalUnreadable, ErrorCategory.ReadError, OutcomeKind.Permanent, "The journal cannot be found, read or opened for writing."),
            Row(JournalInUse, ErrorCategory.ResourceBusy, OutcomeKind.Permanent, "Another run holds the journal; the message names it."),
            Row(NotAJournal, ErrorCategory.InvalidData, OutcomeKind.Permanent, "The file is not a CalStudio journal; it was left unchanged."),
            Row(JournalWriteFailed, ErrorCategory.WriteError, OutcomeKind.Permanent, "The journal cannot be written (disk full, read-only, deleted); the batch stopped."),
        };

        private static readonly Dictionary<string, ErrorIdInfo> ById = Rows.ToDictionary(r => r.Id, StringComparer.Ordinal);

        /// <summary>Every ErrorId, in the order about_CalStudio lists them.</summary>
        public static IReadOnlyList<ErrorIdInfo> All => Rows;

        public static ErrorIdInfo Info(string errorId)
        {
            if (errorId != null && ById.TryGetValue(errorId, out var info)) return info;
            throw new ArgumentException("Unknown ErrorId '" + errorId + "': add it to the ErrorIds table.", nameof(errorId));
        }

        /// <summary>The ErrorId of an HTTP status the API answered with (not 200, not 3xx).</summary>
        internal static string ForStatus(int status, string apiCode)
        {
            switch (status)
            {
                case 400: return BadRequest;
                case 401: return KeyRejected;
                case 403: return Forbidden;
                case 404: return NotFound;
                case 408: return Timeout;
                case 429: return ResponseParser.IsDailyQuotaCode(apiCode) ? DailyQuotaExhausted : RateLimited;
                default: return status >= 500 ? ServerError : UnexpectedStatus;
            }
        }

        private static ErrorIdInfo Row(string id, ErrorCategory category, OutcomeKind kind, string meaning) =>
            new ErrorIdInfo(id, category, kind, meaning);
    }
}
