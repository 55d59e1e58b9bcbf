using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace CalStudio.Emulator;

/// <summary>Which rate-limit headers the emulator writes (--rate-headers), as the common third-party limiters do.</summary>
public enum RateHeaderStyle
{
    /// <summary>X-RateLimit-Limit, -Remaining, -Reset (written as --reset-format says); the default.</summary>
    XRateLimit,
    /// <summary>IETF draft 6: RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (whole seconds from now), RateLimit-Policy.</summary>
    Draft6,
    /// <summary>IETF draft 7: `RateLimit: limit=10, remaining=0, reset=3` and `RateLimit-Policy: 10;w=3`.</summary>
    Draft7,
    /// <summary>IETF draft 8 and later: `RateLimit: "default";r=0;t=3` and `RateLimit-Policy: "default";q=10;w=3`.</summary>
    Draft8,
    /// <summary>No rate-limit headers, and no Retry-After on a refusal either.</summary>
    None,
}

/// <summary>How a request past the rate window is refused (--refusal): the API's 429 envelope, or a proxy limiter's HTML 503.</summary>
public enum RefusalStyle { Status429, Html503 }

/// <summary>Writes a rate decision's headers in the configured style.</summary>
public sealed class LimiterStyle(RateHeaderStyle headers, RefusalStyle refusal, long windowMs)
{
    public RateHeaderStyle Headers { get; } = headers;
    public RefusalStyle Refusal { get; } = refusal;

    /// <summary>Whether a refusal carries Retry-After: not when the limiter says nothing, nor from a proxy's 503 page.</summary>
    public bool SendsRetryAfter => Headers != RateHeaderStyle.None && Refusal == RefusalStyle.Status429;

    public static RateHeaderStyle ParseHeaders(string flag, string v) => v.ToLowerInvariant() switch
    {
        "x-ratelimit" => RateHeaderStyle.XRateLimit,
        "draft6" => RateHeaderStyle.Draft6,
        "draft7" => RateHeaderStyle.Draft7,
        "draft8" => RateHeaderStyle.Draft8,
        "none" => RateHeaderStyle.None,
        _ => throw new OptionsException($"{flag}: '{v}' is not one of x-ratelimit, draft6, draft7, draft8, none."),
    };

    public static RefusalStyle ParseRefusal(string flag, string v) => v.ToLowerInvariant() switch
    {
        "429" => RefusalStyle.Status429,
        "503-html" => RefusalStyle.Html503,
        _ => throw new OptionsException($"{flag}: '{v}' is not one of 429, 503-html."),
    };

    /// <summary>The IETF headers of a decision (the X-RateLimit-* ones are the handler's own); nothing for x-ratelimit or none.</summary>
    public void WriteIetf(IHeaderDictionary h, RateDecision rate)
    {
        if (rate.Limit is not int limit || rate.Remaining is not int remaining) return;
        var inv = CultureInfo.InvariantCulture;
        string q = limit.ToString(inv), r = remaining.ToString(inv), w = ((windowMs + 999) / 1000).ToString(inv);
        string t = rate.ResetUnixMs is long reset ? ((Math.Max(0, reset - Clock.NowMs) + 999) / 1000).ToString(inv) : "0";
        switch (Headers)
        {
            case RateHeaderStyle.Draft6:
                h["RateLimit-Limit"] = q;
                h["RateLimit-Remaining"] = r;
                h["RateLimit-Reset"] = t;
                h["RateLimit-Policy"] = q + ";w=" + w;
                break;
            case RateHeaderStyle.Draft7:
                h["RateLimit"] = "limit=" + q + ", remaining=" + r + ", reset=" + t;
                h["RateLimit-Policy"] = q + ";w=" + w;
                break;
            case RateHeaderStyle.Draft8:
                h["RateLimit"] = "\"default\";r=" + r + ";t=" + t;
                h["RateLimit-Policy"] = "\"default\";q=" + q + ";w=" + w;
                break;
        }
    }
}
