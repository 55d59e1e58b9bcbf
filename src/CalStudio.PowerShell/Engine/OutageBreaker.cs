using System.Globalization;
using CalStudio.Client;

namespace CalStudio.Engine
{
    /// <summary>
    /// An outage stops the batch: when <see cref="Threshold"/> rows in a row (in the order they finish) fail on transport
    /// (refused, DNS, TLS, timeout) or with a 5xx, their retries spent, with no answer between, the API is taken as
    /// unreachable. Every other row would fail the same way, each filling the log and the journal with a failure that
    /// a rerun has to send again anyway. Any HTTP answer below 500 (a success, a 400, a 404) shows the API is there and
    /// starts the count afresh; a row refused before sending says nothing about the API and is not counted.
    /// </summary>
    internal sealed class OutageBreaker
    {
        /// <summary>About 8 rows: more than a burst of bad luck under retries, far fewer than a batch of errors.</summary>
        public const int Threshold = 8;

        private readonly object _gate = new object();
        private int _failedInARow;
        private ApiOutcome _last;

        /// <summary>Told of each row's final outcome; true once the failures in a row reach the threshold.</summary>
        public bool RowEnded(ApiOutcome outcome)
        {
            if (outcome == null) return false;
            lock (_gate)
            {
                if (IsOutage(outcome))
                {
                    _last = outcome;
                    return ++_failedInARow >= Threshold;
                }
                if (outcome.IsSuccess || (outcome.StatusCode > 0 && outcome.StatusCode < 500)) _failedInARow = 0;
                return false;
            }
        }

        /// <summary>The stop's cause: the last failure, told as the outage it is part of.</summary>
        public ApiOutcome Verdict()
        {
            lock (_gate)
                return _last?.As(ErrorIds.ApiUnreachable, string.Format(CultureInfo.InvariantCulture,
                    "The API is unreachable: {0} rows in a row failed after their retries, with no answer between; the last with {1}: {2}",
                    _failedInARow, _last.ErrorId, _last.ErrorMessage));
        }

        internal static bool IsOutage(ApiOutcome outcome) =>
            outcome.ErrorId == ErrorIds.ConnectionFailed || outcome.ErrorId == ErrorIds.Timeout ||
            outcome.ErrorId == ErrorIds.TlsFailure || outcome.ErrorId == ErrorIds.ServerError;
    }
}
