using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading.Tasks;
using CalStudio.Client;
using CalStudio.Engine;

namespace CalStudio.Answers
{
    /// <summary>
    /// -ResponseFormat Json: finds the JSON object in each answer, checks it against the schema (if any), and re-asks
    /// up to -MaxReasks times when there is none or it fails. When the re-asks run out, the row is AnswerNotValid with
    /// the raw message and the reasons. Thread-safe (immutable); one per batch.
    /// </summary>
    internal sealed class JsonAnswerStage : IAnswerStage
    {
        /// <summary>What a journal records as the schema of a JSON answer checked without one.</summary>
        public const string NoSchemaId = "none";

        private readonly ResponseSchema _schema;
        private readonly int _maxReasks;

        public JsonAnswerStage(ResponseSchema schema, int maxReasks)
        {
            _schema = schema;
            _maxReasks = maxReasks;
        }

        private string SchemaId => _schema?.Id ?? NoSchemaId;

        public async Task<StagedAnswer> SendAsync(PromptRequest request, Func<PromptRequest, Task<SendResult>> send)
        {
            var first = await send(request).ConfigureAwait(false);
            if (first.NotSent || !first.Outcome.IsSuccess) return new StagedAnswer(first);

            ApiOutcome answered = first.Outcome;
            int attempts = first.Attempts, reasks = 0;
            TimeSpan duration = first.Duration;
            while (true)
            {
                var verdict = Judge(answered.Message);
                if (verdict.Answer != null) return new StagedAnswer(SendResult.Ended(answered, attempts, duration), verdict.Answer, reasks, SchemaId);
                if (reasks >= _maxReasks) return NotValid(answered, verdict.Errors, attempts, duration, reasks, null);

                var reask = new PromptRequest(ReaskPrompt.Build(request.Prompt, answered.Message, verdict.Errors), request.AppName, request.FileUrl);
                SendResult again;
                try { again = await send(reask).ConfigureAwait(false); }
                catch (OperationCanceledException) { again = null; }
                // The paid answer is kept either way: the row ends here with it, and the journal has it.
                if (again == null || again.NotSent || again.Attempts == 0)
                    return NotValid(answered, verdict.Errors, attempts, duration, reasks, "the re-ask was not sent (the batch stopped, or the daily quota is spent)");
                reasks++;
                attempts += again.Attempts;
                duration += again.Duration;
                if (!again.Outcome.IsSuccess)
                    return NotValid(answered, verdict.Errors, attempts, duration, reasks, "the re-ask failed: " + again.Outcome.ErrorId + " " + again.Outcome.ErrorMessage);
                answered = again.Outcome;
            }
        }

        public Response Reuse(Response journaled)
        {
            if (!journaled.Success && journaled.ErrorId != ErrorIds.AnswerNotValid) return null;
            var verdict = Judge(journaled.Message);
            var reused = journaled.Clone();
            if (verdict.Answer != null)
            {
                reused.Success = true;
                reused.ErrorId = null;
                reused.ErrorMessage = null;
                reused.AnswerSchema = SchemaId;
                verdict.Answer.ApplyTo(reused);
                return reused;
            }
            // Given up on under this very schema with as many re-asks as this run would make: asking again would
            // only pay for the same refusal. A changed schema or a higher -MaxReasks asks again.
            bool settled = !journaled.Success && journaled.AnswerSchema == SchemaId && journaled.Reasks >= _maxReasks;
            return settled ? reused : null;
        }

        public long MaxReasksFor(long prompts) => prompts * _maxReasks;

        /// <summary>The answer's object if it is usable, else the reasons in plain words.</summary>
        internal Verdict Judge(string message)
        {
            var found = JsonAnswerExtractor.Extract(message, _schema?.PropertyNames);
            if (!found.Found) return new Verdict(null, new[] { found.Error });
            if (_schema != null)
            {
                var errors = SchemaValidator.Validate(found.Value, _schema);
                if (errors.Count > 0) return new Verdict(null, errors);
            }
            return new Verdict(new JsonAnswer(Cells(found.Value), found.Source.Value), null);
        }

        /// <summary>
        /// The answer's properties in its order (the reader's dictionary enumerates so, as nothing is removed from it),
        /// with their cells made here: the session history keeps each row's response, and an array of cells costs it
        /// a tenth of the dictionary, nested lists and boxed doubles it replaces.
        /// </summary>
        private static KeyValuePair<string, object>[] Cells(Dictionary<string, object> answer)
        {
            var cells = new KeyValuePair<string, object>[answer.Count];
            int i = 0;
            foreach (var pair in answer) cells[i++] = new KeyValuePair<string, object>(pair.Key, AnswerColumns.Cell(pair.Value));
            return cells;
        }

        private StagedAnswer NotValid(ApiOutcome last, IReadOnlyList<string> errors, int attempts, TimeSpan duration, int reasks, string why)
        {
            string reasons = string.Join("; ", errors) + (why == null ? "" : "; " + why);
            string tries = reasks == 0 ? "" : string.Format(CultureInfo.InvariantCulture, " after {0} re-ask{1}", reasks, reasks == 1 ? "" : "s");
            var outcome = new ApiOutcome
            {
                Kind = ErrorIds.Info(ErrorIds.AnswerNotValid).Kind,
                ErrorId = ErrorIds.AnswerNotValid,
                StatusCode = last.StatusCode,
                Message = last.Message, // the raw answer, for -Failed and the journal
                RequestId = last.RequestId,
                RateLimit = last.RateLimit,
                ErrorMessage = "The answer is not usable JSON" + (_schema == null ? "" : " for the schema") + tries + ": " + reasons + ".",
            };
            return new StagedAnswer(SendResult.Ended(outcome, attempts, duration), null, reasks, SchemaId);
        }

        internal sealed class Verdict
        {
            public Verdict(JsonAnswer answer, IReadOnlyList<string> errors) { Answer = answer; Errors = errors; }
            public JsonAnswer Answer { get; }
            public IReadOnlyList<string> Errors { get; }
        }
    }
}
