using System;
using System.Linq;

namespace CalStudio.Client.RateLimitForms
{
    /// <summary>
    /// IETF draft 8 and later (structured fields): `RateLimit: "name";r=0;t=3` (remaining, seconds to reset) and
    /// `RateLimit-Policy: "name";q=10;w=3` (quota, window), matched by name. With several policies the tightest is obeyed.
    /// </summary>
    internal sealed class Draft8Form : IRateLimitHeaderForm
    {
        public RateLimitSnapshot Read(Func<string, string> header, DateTimeOffset now)
        {
            var policies = StructuredFields.Parse(header("RateLimit-Policy")).Where(m => m.Key == null && m.Parameter("q") != null).ToList();
            RateLimitSnapshot tightest = null;
            foreach (var item in StructuredFields.Parse(header("RateLimit")))
            {
                int? remaining = item.Key == null ? item.Parameter("r") : null;
                if (remaining == null) continue;
                var policy = policies.FirstOrDefault(p => p.Value == item.Value);
                int? reset = item.Parameter("t"), window = policy?.Parameter("w");
                var snapshot = new RateLimitSnapshot
                {
                    Limit = policy?.Parameter("q"), Remaining = remaining, ObservedAt = now, Form = RateLimitForm.Draft8,
                    Reset = reset.HasValue ? now.AddSeconds(reset.Value) : (DateTimeOffset?)null,
                    Window = window > 0 ? TimeSpan.FromSeconds(window.Value) : (TimeSpan?)null,
                };
                tightest = RateLimitHeaders.Tighter(tightest, snapshot);
            }
            return tightest;
        }
    }
}
