using System;

namespace CalStudio.Quota
{
    /// <summary>How fast a bucket refills, learned from answers without a Reset header (kept in <see cref="BudgetState.RefillTicks"/>).</summary>
    internal static class BucketRefill
    {
        /// <summary>
        /// Without a Reset header, after a 429 found the window spent: the requests freed since (those this answer shows
        /// left, and those started in between that have been answered) bound how long a bucket takes to refill one.
        /// Less than a request's worth was left when the window was found spent, so the bound is safe.
        /// </summary>
        public static void Learn(BudgetState s, int remaining, long t, int othersInFlight)
        {
            if (s.SpentAt <= 0 || t <= s.SpentAt) return;
            long startedBetween = Math.Max(0, s.DayCount - s.SpentCount - othersInFlight - 1);
            long freed = remaining + startedBetween;
            if (freed <= 0) return;
            long perRequest = (t - s.SpentAt) / freed;
            s.RefillTicks = s.RefillTicks == 0 ? perRequest : Math.Min(s.RefillTicks, perRequest);
        }
    }
}
