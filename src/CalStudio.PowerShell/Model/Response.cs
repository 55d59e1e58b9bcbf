using System;

namespace CalStudio
{
    /// <summary>
    /// One answered (or failed) prompt. Emitted by Invoke-CalStudioPrompt for each answer, kept in the session
    /// history and the journal. Holds nothing secret.
    /// </summary>
    public sealed class Response
    {
        public string Prompt { get; set; }
        public string AppName { get; set; }
        public string FileUrl { get; set; }
        public string Message { get; set; }
        public bool Success { get; set; }
        public int StatusCode { get; set; }
        public string RequestId { get; set; }
        public int Attempts { get; set; }
        /// <summary>Seconds from the first send to the final answer (to the millisecond): a number, so ConvertTo-Json
        /// and Export-Csv write one value, not a TimeSpan's fields.</summary>
        public double Duration { get; set; }
        public DateTimeOffset CompletedAt { get; set; }

        /// <summary>The ErrorId of a failed row (as in its error record); null for a success.</summary>
        public string ErrorId { get; set; }
        public string ErrorMessage { get; set; }

        /// <summary>True when the answer was read from a journal of an earlier run instead of being sent again.</summary>
        public bool FromJournal { get; set; }

        /// <summary>The row's key in a journal: the -KeyProperty value, or a hash of AppName, Prompt and FileUrl.</summary>
        public string RowKey { get; set; }

        /// <summary>The input row's number in this run, from 1.</summary>
        public long RowNumber { get; set; }

        /// <summary>The -KeyProperty column's value, when one was named.</summary>
        public string Key { get; set; }

        /// <summary>-ResponseFormat Json: where the JSON was found in Message (Whole, Fenced or Prose); null for text.</summary>
        public string AnswerFrom { get; set; }

        /// <summary>-ResponseFormat Json: re-asks sent for this row (each is also counted in Attempts).</summary>
        public int Reasks { get; set; }

        /// <summary>The JSON answer's top-level properties, which become the output object's columns; null for text.</summary>
        internal System.Collections.Generic.IReadOnlyList<System.Collections.Generic.KeyValuePair<string, object>> AnswerFields { get; set; }

        /// <summary>The id of the schema that judged this answer (kept in the journal), so a resume knows whether it still holds.</summary>
        internal string AnswerSchema { get; set; }

        /// <summary>A copy, so each emitted object carries its own note properties (PowerShell keys them by the base object).</summary>
        internal Response Clone() => (Response)MemberwiseClone();

        public override string ToString() => Success ? Message ?? string.Empty : "[" + ErrorId + "] " + ErrorMessage;
    }

    /// <summary>What Get-CalStudioConnection shows. Never the key: only its last characters.</summary>
    public sealed class Connection
    {
        public Uri BaseUri { get; set; }
        public string AppName { get; set; }
        public string KeyHint { get; set; }
        public int TimeoutSec { get; set; }
        public int MaxRetries { get; set; }
        /// <summary>The ceiling of requests in flight; null: the default ceiling, requests in flight following the latency.</summary>
        public int? ThrottleLimit { get; set; }
        public DateTimeOffset ConnectedAt { get; set; }
        public Uri Proxy { get; set; }

        // Quota, from the last answer's X-RateLimit-* headers and the local counters.
        public int? RequestsPerMinute { get; set; }
        public int? RequestsPerDay { get; set; }
        public int? RateLimit { get; set; }
        public int? RateLimitRemaining { get; set; }
        public DateTimeOffset? RateLimitReset { get; set; }
        public int RequestsToday { get; set; }
        /// <summary>The API refused the key for the day: until then every run on this machine stops at once, sending nothing.</summary>
        public DateTimeOffset? DailyQuotaSpentUntil { get; set; }
        /// <summary>What pacing obeys and where it came from ("RateLimit-Policy q=10;w=3", "learned 3.3/s from 429s without headers"); null: nothing.</summary>
        public string Pacing { get; set; }

        // Requests in flight the last batch settled on, and why ("12 in flight: 2.0/s × 5.1 s latency"); null before a batch.
        public int? InFlightLevel { get; set; }
        public string InFlightReason { get; set; }

        public override string ToString() => BaseUri + " app '" + AppName + "' key " + KeyHint;
    }
}
