using System.Globalization;

namespace CalStudio.Emulator.Api;

/// <summary>Answers a prompt that carries an "emu:" <see cref="Directive"/> as the directive says.</summary>
internal sealed class DirectiveAnswers(Interruptions interruptions)
{
    private const string RateLimitText = "Rate limit exceeded for this API key.";

    /// <summary>
    /// True when the request was answered: a malformed directive (400), or one that applies to this arrival and
    /// produces a response. False when processing should continue (no directive, not this arrival, or a sleep).
    /// <paramref name="message"/> is the answer the app would give, for the directives that send part of it.
    /// </summary>
    public async Task<bool> AnswerAsync(Exchange x, string prompt, long arrival, string message)
    {
        if (!prompt.StartsWith(Directive.Prefix, StringComparison.Ordinal)) return false;
        var d = Directive.Parse(prompt, out string? error);
        if (d is null)
        {
            await Responses.ErrorAsync(x, 400, "invalid_directive", error!);
            return true;
        }
        return d.AppliesTo(arrival) && await RunAsync(x, d, message);
    }

    private async Task<bool> RunAsync(Exchange x, Directive d, string message)
    {
        var headers = x.Ctx.Response.Headers;
        switch (d.Kind)
        {
            case "500":
                await Responses.ErrorAsync(x, 500, "internal_error", "Internal server error.");
                break;
            case "html502":
                await Responses.Html502Async(x);
                break;
            case "status":
                int code = d.IntArg;
                await Responses.ErrorAsync(x, code, $"emulated_{code}", $"Emulated HTTP {code}.");
                break;
            case "429":
                headers.RetryAfter = d.Arg;
                await Responses.ErrorAsync(x, 429, "rate_limit_exceeded", RateLimitText);
                break;
            case "429date":
                headers.RetryAfter = DateTimeOffset.UtcNow.AddSeconds(d.IntArg).ToString("R", CultureInfo.InvariantCulture);
                await Responses.ErrorAsync(x, 429, "rate_limit_exceeded", RateLimitText);
                break;
            case "daily":
                headers.RetryAfter = "3600";
                headers["X-RateLimit-Remaining"] = "0";
                await Responses.ErrorAsync(x, 429, "daily_quota_exceeded", "Daily quota exceeded for this API key.");
                break;
            case "drop":
                Interruptions.Drop(x);
                break;
            case "dropmid":
                await Interruptions.DropMidBodyAsync(x, message);
                break;
            case "hang":
                await interruptions.HangAsync(x);
                break;
            case "unsuccessful":
                await Responses.UnsuccessfulAsync(x, 422);
                break;
            case "unsuccessful500":
                await Responses.UnsuccessfulAsync(x, 500);
                break;
            case "empty":
                await Responses.TextAsync(x, 200, Responses.JsonType, "");
                break;
            case "emptyerr":
                await Responses.TextAsync(x, 500, Responses.JsonType, "");
                break;
            case "badjson":
                await Responses.TextAsync(x, 200, Responses.JsonType, "this is not json");
                break;
            case "truncated":
                await Responses.TextAsync(x, 200, Responses.JsonType, "{\"message\":\"cut");
                break;
            case "wrongshape":
                await Responses.TextAsync(x, 200, Responses.JsonType, "{\"message\":42,\"status\":\"200\",\"success\":\"yes\"}");
                break;
            case "nomessage":
                await Responses.TextAsync(x, 200, Responses.JsonType, "{\"status\":200,\"success\":true}");
                break;
            case "big":
                await Responses.BigAsync(x, (long)(d.DoubleArg * 1024 * 1024));
                break;
            case "redirect":
                headers.Location = d.Arg;
                await Responses.TextAsync(x, 307, null, "");
                break;
            case "sleep":
                await interruptions.DelayAsync(x, d.IntArg);
                return false;
            case "echo":
                await Responses.ResultAsync(x, x.Ctx.Request.Headers.UserAgent.ToString(), 200, true);
                break;
            default:
                throw new InvalidOperationException($"Unhandled directive kind '{d.Kind}'.");
        }
        return true;
    }
}
