using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using CalStudio.Client;
using CalStudio.Engine;

namespace CalStudio.Answers
{
    /// <summary>
    /// What a batch does with an app's answer before it is a row's result: the one seam between the batch and the
    /// answer format. Text takes the answer as it is; JSON finds, checks and re-asks (<see cref="JsonAnswerStage"/>).
    /// Every request a stage makes goes through the <c>send</c> it is given: the batch's RetryingSender, so a re-ask
    /// is paced, counted in the shared and daily budgets, and never started after a stop.
    /// </summary>
    internal interface IAnswerStage
    {
        /// <summary>Sends the row's prompt (and any re-asks) through <paramref name="send"/>.</summary>
        Task<StagedAnswer> SendAsync(PromptRequest request, Func<PromptRequest, Task<SendResult>> send);

        /// <summary>A journaled answer as this batch would deliver it, judged by today's format and schema; null: send the row again.</summary>
        Response Reuse(Response journaled);

        /// <summary>At most how many re-asks <paramref name="prompts"/> prompts may add (for -WhatIf).</summary>
        long MaxReasksFor(long prompts);
    }

    /// <summary>A row's final send result (attempts and duration summed over its re-asks) and the answer found in it. Immutable.</summary>
    internal sealed class StagedAnswer
    {
        public StagedAnswer(SendResult sent, JsonAnswer answer = null, int reasks = 0, string schemaId = null)
        {
            Sent = sent;
            Answer = answer;
            Reasks = reasks;
            SchemaId = schemaId;
        }

        public SendResult Sent { get; }
        public JsonAnswer Answer { get; }
        public int Reasks { get; }
        public string SchemaId { get; }

        /// <summary>Puts what the stage learnt on the row's response (which the journal then stores).</summary>
        public void ApplyTo(Response response)
        {
            response.Reasks = Reasks;
            response.AnswerSchema = SchemaId;
            Answer?.ApplyTo(response);
        }
    }

    /// <summary>The object found in an answer: its top-level properties in the answer's order, and where it was.</summary>
    internal sealed class JsonAnswer
    {
        public JsonAnswer(IReadOnlyList<KeyValuePair<string, object>> fields, AnswerSource source) { Fields = fields; Source = source; }

        public IReadOnlyList<KeyValuePair<string, object>> Fields { get; }
        public AnswerSource Source { get; }

        public void ApplyTo(Response response)
        {
            response.AnswerFields = Fields;
            response.AnswerFrom = Source.ToString();
        }
    }

    /// <summary>-ResponseFormat Text (the default): the answer is the message, as before this stage existed.</summary>
    internal sealed class TextAnswerStage : IAnswerStage
    {
        public static readonly TextAnswerStage Instance = new TextAnswerStage();

        public async Task<StagedAnswer> SendAsync(PromptRequest request, Func<PromptRequest, Task<SendResult>> send) =>
            new StagedAnswer(await send(request).ConfigureAwait(false));

        /// <summary>An answer a JSON run gave up on (AnswerNotValid) is still the app's text answer, already paid for.</summary>
        public Response Reuse(Response journaled)
        {
            if (journaled.Success) return journaled;
            if (journaled.ErrorId != ErrorIds.AnswerNotValid) return null;
            var answer = journaled.Clone();
            answer.Success = true;
            answer.ErrorId = null;
            answer.ErrorMessage = null;
            return answer;
        }

        public long MaxReasksFor(long prompts) => 0;
    }
}
