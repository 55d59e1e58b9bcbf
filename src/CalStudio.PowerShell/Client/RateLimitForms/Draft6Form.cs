using System;
using System.Linq;

namespace CalStudio.Client.RateLimitForms
{
    /// <summary>
    /// IETF draft 6: RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (seconds from now). The Limit may carry
    /// quota policies after the number (`10, 10;w=3`); the window comes from those, or from RateLimit-Policy.
    /// </summary>
    internal sealed class Draft6Form : IRateLimitHeaderForm
    {
        public RateLimitSnapshot Read(Func<string, string> header, DateTimeOffset now)
        {
            var limitMembers = StructuredFields.Parse(header("RateLimit-Limit"));
            int? limit = limitMembers.Count > 0 ? StructuredFields.Number(limitMembers[0].Value) : null;
            int? remaining = First(header("RateLimit-Remaining"));
            int? resetSeconds = First(header("RateLimit-Reset"));
            if (limit == null && remaining == null && resetSeconds == null) return null;
            int? window = limitMembers.Concat(StructuredFields.Parse(header("RateLimit-Policy")))
                .Select(m => m.Parameter("w")).FirstOrDefault(w => w > 0);
            return new RateLimitSnapshot
            {
                Limit = limit, Remaining = remaining, ObservedAt = now, Form = RateLimitForm.Draft6,
                Reset = resetSeconds.HasValue ? now.AddSeconds(resetSeconds.Value) : (DateTimeOffset?)null,
                Window = window.HasValue ? TimeSpan.FromSeconds(window.Value) : (TimeSpan?)null,
            };
        }

        private static int? First(string header)
        {
            var members = StructuredFields.Parse(header);
            return members.Count > 0 && members[0].Key == null ? StructuredFields.Number(members[0].Value) : null;
        }
    }
}
