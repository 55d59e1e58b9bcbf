using System;

namespace CalStudio.Client.RateLimitForms
{
    /// <summary>Reads every rate-limit header form an answer may carry; when they disagree, the most restrictive wins.</summary>
    internal static class RateLimitHeaders
    {
        private static readonly IRateLimitHeaderForm[] Forms = { new XRateLimitForm(), new Draft6Form(), new Draft7Form(), new Draft8Form() };

        /// <returns>The tightest snapshot any form gave, or null when none said anything readable.</returns>
        public static RateLimitSnapshot Read(Func<string, string> header, DateTimeOffset now)
        {
            RateLimitSnapshot tightest = null;
            foreach (var form in Forms)
            {
                RateLimitSnapshot snapshot;
                try { snapshot = form.Read(header, now); }
                catch (Exception ex) when (!(ex is OutOfMemoryException)) { snapshot = null; } // a malformed header is ignored
                tightest = Tighter(tightest, snapshot);
            }
            return tightest;
        }

        /// <summary>The more restrictive of two: fewer requests left, then the later Reset, then the one that says more.</summary>
        internal static RateLimitSnapshot Tighter(RateLimitSnapshot a, RateLimitSnapshot b)
        {
            if (a == null || b == null) return a ?? b;
            if (a.Remaining.HasValue != b.Remaining.HasValue) return a.Remaining.HasValue ? a : b;
            if (a.Remaining != b.Remaining) return a.Remaining < b.Remaining ? a : b;
            if (a.Reset.HasValue != b.Reset.HasValue) return a.Reset.HasValue ? a : b;
            if (a.Reset != b.Reset) return a.Reset > b.Reset ? a : b;
            return a.Limit.HasValue || !b.Limit.HasValue ? a : b;
        }
    }
}
