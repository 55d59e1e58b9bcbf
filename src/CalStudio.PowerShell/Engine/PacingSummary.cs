using System;
using System.Globalization;
using CalStudio.Quota;

namespace CalStudio.Engine
{
    /// <summary>The summary's words on pacing: how many requests the rate limiter refused in this batch, and what was obeyed.</summary>
    internal static class PacingSummary
    {
        /// <summary>Counts from now: the pacer's refusals are the session's, the batch reports only its own.</summary>
        public static Func<string> For(RequestPacer pacer)
        {
            int before = pacer.Refusals;
            return () =>
            {
                string refused = (pacer.Refusals - before).ToString(CultureInfo.InvariantCulture) + " refused by the rate limiter";
                string obeying = pacer.Snapshot().Obeying;
                return obeying == null ? refused : refused + "; pacing: " + obeying;
            };
        }
    }
}
