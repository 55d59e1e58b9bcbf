using System;

namespace CalStudio.Client.RateLimitForms
{
    /// <summary>Which header form a rate-limit snapshot was read from (also kept in the shared state, so its numbers are stable).</summary>
    public enum RateLimitForm
    {
        None = 0,
        /// <summary>X-RateLimit-Limit, -Remaining, -Reset (Unix seconds or seconds from now).</summary>
        XRateLimit = 1,
        /// <summary>IETF draft 6: RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (seconds from now).</summary>
        Draft6 = 2,
        /// <summary>IETF draft 7: `RateLimit: limit=10, remaining=0, reset=3` and `RateLimit-Policy: 10;w=3`.</summary>
        Draft7 = 3,
        /// <summary>IETF draft 8 and later (structured fields): `RateLimit: "name";r=0;t=3`, `RateLimit-Policy: "name";q=10;w=3`.</summary>
        Draft8 = 4,
    }

    /// <summary>
    /// Reads one form of rate-limit headers from an answer. Total: a header it cannot read is ignored (null), never an
    /// error, and unknown parameters are skipped.
    /// </summary>
    internal interface IRateLimitHeaderForm
    {
        /// <returns>What the headers said, or null when this form is absent or unreadable.</returns>
        RateLimitSnapshot Read(Func<string, string> header, DateTimeOffset now);
    }
}
