using System.Globalization;

namespace CalStudio.Emulator.Api;

/// <summary>
/// Checks a key against the rate limits, puts their headers on the answer (every answer after auth carries them) and,
/// when the request is over a limit, answers the refusal in the configured style.
/// </summary>
internal sealed class RateLimitAnswers(RateLimits limits, LimiterStyle style)
{
    private const string DailyCode = "daily_quota_exceeded";

    /// <summary>True when the request was refused (and answered).</summary>
    public async Task<bool> RefuseAsync(Exchange x, string apiKey)
    {
        var rate = limits.Check(apiKey);
        var response = x.Ctx.Response;
        SetHeaders(response.Headers, rate);
        if (rate.Allowed) return false;
        bool daily = rate.RejectCode == DailyCode;
        if (!daily && style.Refusal == RefusalStyle.Html503)
        {
            await Responses.Html503Async(x); // --refusal 503-html: a proxy's limiter page
            return true;
        }
        if (style.SendsRetryAfter || daily)
            response.Headers.RetryAfter = rate.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        string text = daily ? "Daily quota exceeded for this API key." : "Rate limit exceeded for this API key.";
        await Responses.ErrorAsync(x, 429, rate.RejectCode!, text);
        return true;
    }

    private void SetHeaders(IHeaderDictionary h, RateDecision rate)
    {
        if (style.Headers != RateHeaderStyle.XRateLimit) { style.WriteIetf(h, rate); return; }
        if (rate.Limit is int limit) h["X-RateLimit-Limit"] = limit.ToString(CultureInfo.InvariantCulture);
        if (rate.Remaining is int remaining) h["X-RateLimit-Remaining"] = remaining.ToString(CultureInfo.InvariantCulture);
        if (limits.ResetHeader(rate) is string reset) h["X-RateLimit-Reset"] = reset;
    }
}
