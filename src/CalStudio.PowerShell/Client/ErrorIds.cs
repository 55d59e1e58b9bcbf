namespace CalStudio.Client
{
    /// <summary>
    /// The ErrorIds the module writes. They are part of its interface: scripts and tests match on
    /// "Id,CalStudio.Commands.&lt;Cmdlet&gt;Command" in FullyQualifiedErrorId, so never rename one.
    /// </summary>
    public static class ErrorIds
    {
        // Input rows, checked before anything is sent.
        public const string InvalidPrompt = "InvalidPrompt";
        public const string InvalidFileUrl = "InvalidFileUrl";
        public const string InvalidAppName = "InvalidAppName";
        public const string MissingAppName = "MissingAppName";

        // Answers from the API, per row.
        public const string BadRequest = "ApiBadRequest";
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

        // Whole-batch stops.
        public const string KeyRejected = "ApiKeyRejected";
        public const string DailyQuotaExhausted = "DailyQuotaExhausted";

        // Session and connection.
        public const string NotConnected = "NotConnected";
        public const string NoApiKey = "NoApiKey";
        public const string InsecureBaseUri = "InsecureBaseUri";
        public const string InvalidBaseUri = "InvalidBaseUri";

        // Journal.
        public const string JournalKeyMismatch = "JournalKeyMismatch";
        public const string JournalUnreadable = "JournalUnreadable";
        public const string JournalInUse = "JournalInUse";
        public const string NotAJournal = "NotAJournal";
    }
}
