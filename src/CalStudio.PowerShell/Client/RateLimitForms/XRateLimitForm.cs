using System;
using System.Globalization;

namespace CalStudio.Client.RateLimitForms
{
    /// <summary>X-RateLimit-Limit, -Remaining and -Reset, as read before the IETF forms were.</summary>
    internal sealed class XRateLimitForm : IRateLimitHeaderForm
    {
        public RateLimitSnapshot Read(Func<string, string> header, DateTimeOffset now)
        {
            int? limit = ParseInt(header("X-RateLimit-Limit"));
            int? remaining = ParseInt(header("X-RateLimit-Remaining"));
            string resetText = header("X-RateLimit-Reset");
            DateTimeOffset? reset = null;
            // As common parsers do: at least 1e9 is Unix seconds, anything smaller seconds from now (IETF draft RateLimit-Reset).
            if (double.TryParse(resetText, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds >= 0 && seconds < 1e11)
                reset = seconds >= 1e9 ? DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000)) : now.AddMilliseconds(seconds * 1000);
            if (limit == null && remaining == null && reset == null) return null;
            return new RateLimitSnapshot { Limit = limit, Remaining = remaining, Reset = reset, ObservedAt = now, Form = RateLimitForm.XRateLimit };
        }

        internal static int? ParseInt(string text) =>
            int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 0 ? v : (int?)null;
    }
}
