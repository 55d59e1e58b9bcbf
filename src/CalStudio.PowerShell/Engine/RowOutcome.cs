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
        /// <summary>A row that repeats an earlier row's key and request, and takes its outcome (<see cref="RepeatedRows"/>).</summary>
        public bool IsRepeat { get; private set; }

        /// <summary>Finished for good: a success or a failure that a rerun would not change by waiting.</summary>
        public bool IsFinal => Outcome != null && Outcome.Kind != OutcomeKind.QuotaExhausted && Outcome.Kind != OutcomeKind.KeyRejected;

        public static RowOutcome NotSent(RowInput row) => new RowOutcome(row, null, null);

        /// <summary>This outcome for a repeat of its row: the same answer or failure, under the repeat's own number and key.</summary>
        public RowOutcome RepeatedFor(RowInput repeat)
        {
            if (Response == null) return new RowOutcome(repeat, null, null) { IsRepeat = true };
            var response = Response.Clone();
            response.RowNumber = repeat.Number;
            response.Key = repeat.KeyValue;
            return new RowOutcome(repeat, Outcome, response) { IsRepeat = true };
        }

        /// <summary>Kept for repeats without holding the input row (a CSV row's columns) alive.</summary>
        public RowOutcome WithoutRow() => new RowOutcome(null, Outcome, Response);

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
