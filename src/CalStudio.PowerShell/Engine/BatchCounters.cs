using System;
using System.Diagnostics;
using System.Globalization;

namespace CalStudio.Engine
{
    /// <summary>Running totals of a batch, for progress and the closing summary. Changed on the pipeline thread only.</summary>
    internal sealed class BatchCounters
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        public long Seen;
        public long Succeeded;
        public long Failed;
        public long FromJournal;
        public long Superseded;
        /// <summary>-ResponseFormat Json: re-asks sent, and journaled answers the current schema rejected (so sent again).</summary>
        public long Reasks;
        public long Rejudged;
        public long Retries;
        public long NotSent;
        public long? Total;
        /// <summary>The in-flight level and why, for the summary.</summary>
        public Func<string> InFlightReason;
        /// <summary>Refusals in this batch and what pacing obeyed, for the summary.</summary>
        public Func<string> PacingReason;
        public TimeSpan Elapsed => _clock.Elapsed;
        public long Done => Succeeded + Failed;

        /// <summary>Rows sent and finished per minute of this run (journal hits cost nothing and are left out).</summary>
        public double PerMinute
        {
            get
            {
                double minutes = Elapsed.TotalMinutes;
                return minutes <= 0 ? 0 : (Done - FromJournal) / minutes;
            }
        }

        public string Summary() =>
            string.Format(CultureInfo.InvariantCulture,
                "CalStudio batch: {0} succeeded ({1} from the journal), {2} failed, {3} retries, {4} not sent{5}; {6:0.0} s elapsed, {7}{8}{9}.",
                Succeeded, FromJournal, Failed, Retries, NotSent,
                (Superseded > 0 ? ", " + Superseded + " sent again because their prompt, app or file changed since the journal" : "") + AnswerNotes(),
                Elapsed.TotalSeconds, Done - FromJournal == 0 ? "nothing sent" : Rate(PerMinute) + " prompts/min",
                InFlightReason == null || Done - FromJournal == 0 ? "" : "; " + InFlightReason(),
                PacingReason == null || Done - FromJournal == 0 ? "" : "; " + PacingReason());

        private string AnswerNotes() =>
            (Reasks > 0 ? ", " + Reasks + " re-asks for JSON" : "") +
            (Rejudged > 0 ? ", " + Rejudged + " sent again because the schema rejects their journaled answer" : "");

        /// <summary>Whole numbers when large; a short batch keeps its precision instead of reading 0.</summary>
        internal static string Rate(double perMinute) =>
            perMinute >= 10 || perMinute == 0 ? perMinute.ToString("0", CultureInfo.InvariantCulture) : perMinute.ToString("0.0#", CultureInfo.InvariantCulture);
    }
}
