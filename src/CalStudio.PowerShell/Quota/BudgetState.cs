using System;
using System.Globalization;
using System.Linq;

namespace CalStudio.Quota
{
    /// <summary>The pacing state every user of one key on this machine shares.</summary>
    internal sealed class BudgetState
    {
        /// <summary>Earliest start of the next request under the configured requests-per-minute (UTC ticks).</summary>
        public long NextSlot;
        /// <summary>The UTC day (yyyyMMdd) that DayCount counts.</summary>
        public int Day;
        public int DayCount;
        /// <summary>From X-RateLimit-*: the window's end (UTC ticks), the limit, and the requests still believed left.</summary>
        public long WindowReset;
        public int WindowLimit;
        public int WindowLeft;
        /// <summary>Nobody starts before this (a 429's Retry-After), UTC ticks.</summary>
        public long PauseUntil;
        /// <summary>The last start (UTC ticks).</summary>
        public long LastStart;
        /// <summary>The window length learned from the headers (ticks, longest time to Reset seen), 0 while unknown.</summary>
        public long WindowLength;
        /// <summary>Without a Reset header: one probe at a time until this (UTC ticks) while no room is known.</summary>
        public long ProbeUntil;
        /// <summary>Without a Reset header: when the current window was found open (UTC ticks); it opens again a WindowLength later.</summary>
        public long WindowOpened;
        /// <summary>The fewest requests left that an answer of the current window showed (WindowLeft also takes off those in flight).</summary>
        public long ServerLeft;
        /// <summary>1 when the last answer had a Reset header: after a window turns, its next Reset comes with the next answer.</summary>
        public long ResetSent;
        /// <summary>Without a Reset header: when a request last found the window spent (a 429'd probe's start, UTC ticks), and DayCount then.</summary>
        public long SpentAt;
        public long SpentCount;
        /// <summary>Without a Reset header: a request comes back at least this often (ticks), as measured since SpentAt (a bucket's refill); 0 while unknown.</summary>
        public long RefillTicks;
        /// <summary>The API refused the key for the day: every process sends nothing until this (UTC ticks); 0: not spent (<see cref="SpentDay"/>).</summary>
        public long DaySpentUntil;
        /// <summary>Which header form the window's limits came from (a RateLimitForm), for saying what is obeyed.</summary>
        public long HeaderForm;
        /// <summary>What <see cref="RefusalRateLearner"/> found from refusals without hints: see its fields there.</summary>
        public LearnedRate Learned = new LearnedRate();

        public string Serialize() =>
            string.Join(" ", new[] { NextSlot, Day, DayCount, WindowReset, WindowLimit, WindowLeft, PauseUntil, LastStart, WindowLength, ProbeUntil, WindowOpened, ResetSent, ServerLeft, SpentAt, SpentCount, RefillTicks, DaySpentUntil }
                .Select(v => v.ToString(CultureInfo.InvariantCulture))
                .Concat(new[] { FormTag + HeaderForm.ToString(CultureInfo.InvariantCulture), Learned.Serialize() }));

        // Later fields are tagged tokens after the numbered ones, so a field added to the numbered list does not move them.
        private const string FormTag = "form:";

        public static BudgetState Parse(string text)
        {
            var state = new BudgetState();
            var parts = (text ?? "").Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
            long Part(int i) => i < parts.Length && long.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : 0;
            state.NextSlot = Part(0);
            state.Day = (int)Part(1);
            state.DayCount = (int)Part(2);
            state.WindowReset = Part(3);
            state.WindowLimit = (int)Part(4);
            state.WindowLeft = (int)Part(5);
            state.PauseUntil = Part(6);
            state.LastStart = Part(7);
            state.WindowLength = Part(8); // files written before these fields existed read as "unknown"
            state.ProbeUntil = Part(9);
            state.WindowOpened = Part(10);
            state.ResetSent = Part(11);
            state.ServerLeft = parts.Length > 12 ? Part(12) : state.WindowLimit;
            state.SpentAt = Part(13);
            state.SpentCount = Part(14);
            state.RefillTicks = Part(15);
            state.DaySpentUntil = Part(16);
            string Tagged(string tag) => parts.FirstOrDefault(p => p.StartsWith(tag, StringComparison.Ordinal))?.Substring(tag.Length);
            state.HeaderForm = long.TryParse(Tagged(FormTag), NumberStyles.Integer, CultureInfo.InvariantCulture, out long form) ? form : 0;
            state.Learned = LearnedRate.Parse(Tagged(LearnedRate.Tag));
            return state;
        }
    }
}
