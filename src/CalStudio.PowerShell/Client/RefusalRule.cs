using System;
using System.Collections.Generic;

namespace CalStudio.Client
{
    /// <summary>
    /// Which answers are a rate limiter refusing the request: a 429 that is not a spent daily quota, and a 503 that
    /// answers at once with no Retry-After and no JSON error envelope, the page a reverse proxy's request limiter sends
    /// by default. Such a 503 is retried and paced as a refusal (ApiRateLimited), not reported as the app failing.
    /// </summary>
    internal static class RefusalRule
    {
        /// <summary>An app that fails takes its time; a proxy's limiter answers before the app is reached.</summary>
        internal static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(1);

        public static ApiOutcome Apply(ApiOutcome outcome, string body, TimeSpan? answeredIn)
        {
            if (outcome.StatusCode == 429 && outcome.Kind == OutcomeKind.Transient && !outcome.IsRefusal)
                return outcome.AsRefusal(outcome.ErrorMessage);
            if (outcome.StatusCode != 503 || outcome.RetryAfter.HasValue || answeredIn > AtOnce || IsJsonObject(body)) return outcome;
            return outcome.AsRefusal(outcome.ErrorMessage + " Answered at once without Retry-After, it is taken as a proxy's rate limiter refusing the request.");
        }

        private static bool IsJsonObject(string body) =>
            !string.IsNullOrEmpty(body) && Json.TryParse(body, out object parsed) && parsed is Dictionary<string, object>;
    }
}
