using System;
using CalStudio.Client;

namespace CalStudio.Engine
{
    /// <summary>How one row ended: an answer, a failure, a journal hit, or not sent because the batch stopped. Immutable.</summary>
    internal sealed class RowOutcome
    {
        private RowOutcome(RowInput row, ApiOutcome outcome, Response response)
        {
            Row = row;
            Outcome = outcome;
            Response = response;
        }

        public RowInput Row { get; }
        /// <summary>Null for a journal hit and for a row not sent.</summary>
        public ApiOutcome Outcome { get; }
        /// <summary>Null for a row not sent.</summary>
        public Response Response { get; }
        public bool IsNotSent => Response == null;

        /// <summary>Finished for good: a success or a failure that a rerun would not change by waiting.</summary>
        public bool IsFinal => Outcome != null && Outcome.Kind != OutcomeKind.QuotaExhausted && Outcome.Kind != OutcomeKind.KeyRejected;

        public static RowOutcome NotSent(RowInput row) => new RowOutcome(row, null, null);

        public static RowOutcome FromJournal(RowInput row, Response earlier)
        {
            var response = earlier.Clone(); // each emitted object carries its own note properties
            response.RowNumber = row.Number;
            response.Key = row.KeyValue;
            return new RowOutcome(row, null, response);
        }

        public static RowOutcome Ended(RowInput row, ApiOutcome outcome, int attempts, TimeSpan duration, string rowKey) =>
            new RowOutcome(row, outcome, new Response
            {
                Prompt = row.Prompt,
                AppName = row.AppName,
                FileUrl = row.FileUrl,
                Message = outcome.Message,
                Success = outcome.IsSuccess,
                StatusCode = outcome.StatusCode,
                RequestId = outcome.RequestId,
                Attempts = attempts,
                Duration = Math.Round(duration.TotalSeconds, 3),
                CompletedAt = DateTimeOffset.Now,
                ErrorId = outcome.ErrorId,
                ErrorMessage = outcome.ErrorMessage,
                RowKey = rowKey,
                RowNumber = row.Number,
                Key = row.KeyValue,
            });
    }
}
