using System;
using System.Globalization;
using CalStudio.Client;

namespace CalStudio.Engine
{
    /// <summary>
    /// What -Debug says about one attempt: how it ended, how long it was on the wire, and how long it waited first for
    /// an in-flight slot and for the pacer. Made on a worker; written on the pipeline thread through the batch's notes.
    /// Holds nothing secret: no key, no header, and the prompt only as its first 60 characters.
    /// </summary>
    internal sealed class AttemptTrace
    {
        private static readonly TimeSpan NoticeableWait = TimeSpan.FromMilliseconds(20);

        public AttemptTrace(int attempt, int maxAttempts, ApiOutcome outcome, TimeSpan onWire, TimeSpan slotWait, TimeSpan pacerWait)
        {
            Attempt = attempt;
            MaxAttempts = maxAttempts;
            Outcome = outcome;
            OnWire = onWire;
            SlotWait = slotWait;
            PacerWait = pacerWait;
        }

        public int Attempt { get; }
        public int MaxAttempts { get; }
        /// <summary>Null: the attempt was refused by the pacer or the batch before it was sent.</summary>
        public ApiOutcome Outcome { get; }
        public TimeSpan OnWire { get; }
        public TimeSpan SlotWait { get; }
        public TimeSpan PacerWait { get; }

        /// <param name="pacing">Why the pacer waits, as the pacer knows it ("pacing to 1.00 requests/s"); null when it has no rate.</param>
        public string Describe(string rowLabel, string prompt, string pacing)
        {
            string result = Outcome == null ? "not sent"
                : Outcome.StatusCode > 0 ? "HTTP " + Outcome.StatusCode.ToString(CultureInfo.InvariantCulture) + (Outcome.IsSuccess ? "" : " " + Outcome.ErrorId)
                : Outcome.ErrorId;
            // Taking a turn costs a lock of the shared state file (a millisecond or so); only a real wait has a reason.
            string why = PacerWait >= NoticeableWait ? " (" + (pacing ?? "the rate-limit headers or a Retry-After pause") + ")" : "";
            return string.Format(CultureInfo.InvariantCulture,
                "{0} attempt {1} of {2}: {3} in {4:0.000} s; waited {5:0.000} s for an in-flight slot, {6:0.000} s for the pacer{7}; prompt '{8}'",
                rowLabel, Attempt, MaxAttempts, result, OnWire.TotalSeconds, SlotWait.TotalSeconds, PacerWait.TotalSeconds, why,
                ResponseParser.Shorten(prompt ?? "", 60));
        }
    }
}
