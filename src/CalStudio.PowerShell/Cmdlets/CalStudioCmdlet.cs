using System;
using System.Linq;
using System.Management.Automation;
using CalStudio.Client;
using CalStudio.Session;

namespace CalStudio.Commands
{
    /// <summary>An API failure as an exception: what ErrorRecords carry. Holds no key and no request body.</summary>
    public sealed class CalStudioException : Exception
    {
        public CalStudioException(string message, ApiOutcome outcome = null) : base(message)
        {
            if (outcome == null) return;
            StatusCode = outcome.StatusCode;
            ApiErrorCode = outcome.ApiErrorCode;
            RequestId = outcome.RequestId;
        }

        public int StatusCode { get; }
        public string ApiErrorCode { get; }
        public string RequestId { get; }
    }

    /// <summary>What every CalStudio cmdlet shares: the session lookup and error records with stable ids.</summary>
    public abstract class CalStudioCmdlet : PSCmdlet
    {
        internal CalStudioSession RequireSession()
        {
            var session = SessionStore.Current;
            if (session == null)
                Terminate(ErrorIds.NotConnected, ErrorCategory.ConnectionError,
                    "Not connected to CalStudio. Run Connect-CalStudio first (with -ApiKey, or with the key in $env:CALSTUDIO_API_KEY).", null);
            return session;
        }

        /// <summary>Writes the quota state file's warning (it is unusable and pacing went in-process), once per time it arises.</summary>
        internal void WriteBudgetWarning(CalStudioSession session)
        {
            if (session.Pacer.TryTakeWarning(out string warning)) WriteWarning(warning);
        }

        internal void Terminate(string errorId, ErrorCategory category, string message, object target, ApiOutcome outcome = null, string recommendedAction = null)
        {
            ThrowTerminatingError(Record(errorId, category, message, target, outcome, recommendedAction));
        }

        internal static ErrorRecord Record(string errorId, ErrorCategory category, string message, object target, ApiOutcome outcome = null, string recommendedAction = null)
        {
            var record = new ErrorRecord(new CalStudioException(message, outcome), errorId, category, target);
            string details = message;
            if (outcome != null && (outcome.ApiErrorCode != null || outcome.RequestId != null))
                details += " [" + string.Join(", ", new[]
                {
                    outcome.StatusCode > 0 ? "status " + outcome.StatusCode : null,
                    outcome.ApiErrorCode != null ? "code " + outcome.ApiErrorCode : null,
                    outcome.RequestId != null ? "request id " + outcome.RequestId : null,
                }.Where(s => s != null)) + "]";
            record.ErrorDetails = new ErrorDetails(details) { RecommendedAction = recommendedAction };
            return record;
        }

        /// <summary>pwsh -NonInteractive (or an abbreviation such as -noni), as scheduled tasks run: never prompt or draw progress.</summary>
        internal static bool ProcessIsNonInteractive()
        {
            foreach (string arg in Environment.GetCommandLineArgs())
                if (arg.Length >= 5 && "-noninteractive".StartsWith(arg.ToLowerInvariant(), StringComparison.Ordinal)) return true;
            return false;
        }

        /// <summary>The category PowerShell users filter on, by ErrorId.</summary>
        internal static ErrorCategory CategoryOf(string errorId)
        {
            switch (errorId)
            {
                case ErrorIds.InvalidPrompt:
                case ErrorIds.InvalidFileUrl:
                case ErrorIds.InvalidAppName:
                case ErrorIds.MissingAppName:
                case ErrorIds.BadRequest: return ErrorCategory.InvalidArgument;
                case ErrorIds.NotFound: return ErrorCategory.ObjectNotFound;
                case ErrorIds.KeyRejected: return ErrorCategory.AuthenticationError;
                case ErrorIds.RateLimited:
                case ErrorIds.DailyQuotaExhausted: return ErrorCategory.LimitsExceeded;
                case ErrorIds.Timeout: return ErrorCategory.OperationTimeout;
                case ErrorIds.ConnectionFailed:
                case ErrorIds.RedirectRefused: return ErrorCategory.ConnectionError;
                case ErrorIds.TlsFailure: return ErrorCategory.SecurityError;
                case ErrorIds.ServerError: return ErrorCategory.ResourceUnavailable;
                case ErrorIds.Unsuccessful: return ErrorCategory.InvalidOperation;
                default: return ErrorCategory.InvalidResult;
            }
        }
    }
}
