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
        public CalStudioException(string message, ApiOutcome outcome = null, Exception inner = null) : base(message, inner ?? outcome?.Cause)
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
                Terminate(ErrorIds.NotConnected,
                    "Not connected to CalStudio. Run Connect-CalStudio first (with -ApiKey, or with the key in $env:CALSTUDIO_API_KEY).", null);
            return session;
        }

        /// <summary>Writes the quota state file's warning (it is unusable and pacing went in-process), once per time it arises.</summary>
        internal void WriteBudgetWarning(CalStudioSession session)
        {
            if (session.Pacer.TryTakeWarning(out string warning)) WriteWarning(warning);
        }

        internal void Terminate(string errorId, string message, object target, ApiOutcome outcome = null, string recommendedAction = null, Exception cause = null)
        {
            ThrowTerminatingError(Record(errorId, message, target, outcome, recommendedAction, cause));
        }

        /// <summary>Every error record the module writes: the category comes from the ErrorIds table, never from the call site.</summary>
        internal static ErrorRecord Record(string errorId, string message, object target, ApiOutcome outcome = null, string recommendedAction = null, Exception cause = null)
        {
            var record = new ErrorRecord(new CalStudioException(message, outcome, cause), errorId, ErrorIds.Info(errorId).Category, target);
            string details = message;
            if (outcome != null && (outcome.ApiErrorCode != null || outcome.RequestId != null))
                details += " [" + string.Join(", ", new[]
                {
                    outcome.StatusCode > 0 ? "status " + outcome.StatusCode : null,
                    outcome.ApiErrorCode != null ? "code " + outcome.ApiErrorCode : null,
                    outcome.RequestId != null ? "request id " + outcome.RequestId : null,
                }.Where(t => t != null)) + "]";
            record.ErrorDetails = new ErrorDetails(details) { RecommendedAction = recommendedAction };
            return record;
        }

        /// <summary>Progress only where someone watches: an interactive host that has not silenced it.</summary>
        internal bool HostShowsProgress()
        {
            if (Host?.UI?.RawUI == null || ProcessIsNonInteractive()) return false;
            var preference = GetVariableValue("ProgressPreference");
            return !(preference is ActionPreference p && p == ActionPreference.SilentlyContinue) && !"SilentlyContinue".Equals(preference?.ToString());
        }

        /// <summary>pwsh -NonInteractive (or an abbreviation such as -noni), as scheduled tasks run: never prompt or draw progress.</summary>
        internal static bool ProcessIsNonInteractive()
        {
            foreach (string arg in Environment.GetCommandLineArgs())
                if (arg.Length >= 5 && "-noninteractive".StartsWith(arg.ToLowerInvariant(), StringComparison.Ordinal)) return true;
            return false;
        }
    }
}
