using System;
using System.Linq;

namespace CalStudio.Client.RateLimitForms
{
    /// <summary>IETF draft 7: one `RateLimit: limit=10, remaining=0, reset=3` dictionary, and `RateLimit-Policy: 10;w=3`.</summary>
    internal sealed class Draft7Form : IRateLimitHeaderForm
    {
        public RateLimitSnapshot Read(Func<string, string> header, DateTimeOffset now)
        {
            var fields = StructuredFields.Parse(header("RateLimit")).Where(m => m.Key != null).ToList();
            int? Field(string key) => fields.Where(m => m.Key == key).Select(m => StructuredFields.Number(m.Value)).FirstOrDefault();
            int? remaining = Field("remaining");
            if (remaining == null) return null;
            // The first policy is the one RateLimit describes: its quota, and w= its window in seconds.
            var policy = StructuredFields.Parse(header("RateLimit-Policy")).FirstOrDefault(m => m.Key == null && StructuredFields.Number(m.Value) != null);
            int? window = policy?.Parameter("w");
            int? reset = Field("reset");
            return new RateLimitSnapshot
            {
                Limit = Field("limit") ?? (policy != null ? StructuredFields.Number(policy.Value) : null),
                Remaining = remaining, ObservedAt = now, Form = RateLimitForm.Draft7,
                Reset = reset.HasValue ? now.AddSeconds(reset.Value) : (DateTimeOffset?)null,
                Window = window > 0 ? TimeSpan.FromSeconds(window.Value) : (TimeSpan?)null,
            };
        }
    }
}
