using System;
using System.Collections.Generic;
using System.Globalization;
using CalStudio.Client;
using CalStudio.Client.RateLimitForms;

namespace CalStudio.Quota
{
    /// <summary>What the pacer obeys and where it came from, kept in the shared state and said in words.</summary>
    internal static class PacingDescription
    {
        /// <summary>An answer's rate-limit headers describe a window: note their form and declared window; they replace a rate learned from refusals.</summary>
        public static void NoteForm(BudgetState s, RateLimitSnapshot limits, TimeSpan longestWindow)
        {
            s.HeaderForm = (long)limits.Form;
            if (limits.Window is TimeSpan w && w > TimeSpan.Zero && w <= longestWindow) s.WindowLength = Math.Max(s.WindowLength, w.Ticks);
            if (s.Learned.Engaged) s.Learned = new LearnedRate();
        }

        /// <summary>"-RequestsPerMinute 200", "RateLimit-Policy q=10;w=3", "learned 3.3/s from 429s without headers"; null when nothing is obeyed.</summary>
        public static string Describe(BudgetState s, int? perMinute, int? perDay)
        {
            var inv = CultureInfo.InvariantCulture;
            var parts = new List<string>();
            if (perMinute.HasValue) parts.Add("-RequestsPerMinute " + perMinute.Value.ToString(inv));
            if (perDay.HasValue) parts.Add("-RequestsPerDay " + perDay.Value.ToString(inv));
            if (s.WindowLimit > 0)
            {
                string limit = s.WindowLimit.ToString(inv);
                string window = s.WindowLength > 0 ? TimeSpan.FromTicks(s.WindowLength).TotalSeconds.ToString("0.#", inv) : null;
                switch ((RateLimitForm)s.HeaderForm)
                {
                    case RateLimitForm.Draft7:
                        parts.Add("RateLimit-Policy " + limit + (window != null ? ";w=" + window : "") + " (draft 7)"); break;
                    case RateLimitForm.Draft8:
                        parts.Add("RateLimit-Policy q=" + limit + (window != null ? ";w=" + window : "")); break;
                    case RateLimitForm.Draft6:
                        parts.Add("RateLimit-Limit " + limit + (window != null ? " per " + window + " s" : "") + " (draft 6)"); break;
                    default:
                        parts.Add("X-RateLimit-Limit " + limit + (window != null ? " per " + window + " s" : "")); break;
                }
            }
            string learned = RefusalRateLearner.Describe(s);
            if (learned != null) parts.Add(learned);
            return parts.Count == 0 ? null : string.Join("; ", parts);
        }
    }
}
