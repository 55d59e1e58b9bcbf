using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CalStudio.Emulator;

/// <summary>
/// POST /getbackResponse and the catch-all 404. Validation order mirrors the real API: JSON, key, rate limits,
/// fields, app; then directive, fault plan, latency, success.
/// </summary>
public sealed class ApiHandler
{
    public const long MaxBodyBytes = 8L * 1024 * 1024;
    private const int LogBodyLimitBytes = 256 * 1024; // the ring holds 200 entries; cap each so it stays small
    private const string JsonType = "application/json; charset=utf-8";
    private const string Html502Body =
        "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>";
    private const string Html503Body =
        "<html><head><title>503 Service Temporarily Unavailable</title></head><body><h1>503 Service Temporarily Unavailable</h1></body></html>";
    private const string UnsuccessfulMessage = "The app could not process this prompt.";

    private readonly HashSet<string> _keys;
    private readonly HashSet<string>? _apps;
    private readonly FaultPlan _plan;
    private readonly RateLimits _limits;
    private readonly LimiterStyle _style;
    private readonly Stats _stats;
    private readonly CancellationToken _stopping;
    private readonly int? _overload;
    private readonly HashSet<string> _jsonApps;
    private int _appInFlight; // requests the app is serving, for --overload
    private long _lastRequestId;

    /// <summary>State of one request, so the outcome is recorded exactly once whatever path it took.</summary>
    private sealed class Exchange(HttpContext ctx, string id)
    {
        public HttpContext Ctx { get; } = ctx;
        public string Id { get; } = id;
        public int Status;
        public string? Other;      // "dropped", "hung", "aborted": no HTTP status reached the client
        public bool Succeeded;     // answered 200 with success:true
        public bool Recorded;
        public PromptCounters? Prompt;
    }

    public ApiHandler(EmulatorOptions o, FaultPlan plan, RateLimits limits, Stats stats, CancellationToken stopping)
    {
        _style = new LimiterStyle(o.RateHeaders, o.Refusal, o.WindowMs);
        _keys = new HashSet<string>(o.Keys, StringComparer.Ordinal);
        _apps = o.Apps.Count == 0 ? null : new HashSet<string>(o.Apps, StringComparer.Ordinal);
        _plan = plan;
        _limits = limits;
        _stats = stats;
        _stopping = stopping;
        _overload = o.Overload;
        _jsonApps = new HashSet<string>(o.JsonApps, StringComparer.Ordinal);
    }

    private string NextRequestId() =>
        "req_" + Interlocked.Increment(ref _lastRequestId).ToString(CultureInfo.InvariantCulture);

    public async Task HandleAsync(HttpContext ctx)
    {
        var x = new Exchange(ctx, NextRequestId());
        ctx.Response.Headers["X-Request-Id"] = x.Id;
        _stats.CountRequest();
        _stats.Enter(); // in flight from entry to exit, including latency and hang time
        bool serving = false;
        try
        {
            if (_overload is int most && !(serving = Interlocked.Increment(ref _appInFlight) <= most))
            {
                // --overload: past N in flight the proxy answers at once, before the app (or its rate limits) sees it.
                Interlocked.Decrement(ref _appInFlight);
                await WriteTextAsync(x, 503, "text/html; charset=utf-8", Html503Body);
                return;
            }
            await ProcessAsync(x);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client went away, or the emulator is stopping during a delay: nothing more to send.
            x.Other ??= "aborted";
            ctx.Abort();
        }
        catch (Exception)
        {
            if (ctx.Response.HasStarted)
            {
                x.Other ??= "aborted";
                ctx.Abort();
            }
            else
            {
                await WriteErrorAsync(x, 500, "internal_error", "Unexpected emulator error.");
            }
        }
        finally
        {
            if (serving) Interlocked.Decrement(ref _appInFlight);
            Record(x);
            _stats.Exit();
        }
    }

    /// <summary>Any route the emulator does not know: 404, logged so tests can prove what reached this instance.</summary>
    public async Task HandleUnknownAsync(HttpContext ctx)
    {
        var x = new Exchange(ctx, NextRequestId());
        ctx.Response.Headers["X-Request-Id"] = x.Id;
        try
        {
            var (body, tooLarge) = await ReadBodyAsync(ctx.Request, ctx.RequestAborted);
            LogRequest(x, body, tooLarge);
            await WriteErrorAsync(x, 404, "not_found", $"No such endpoint: {ctx.Request.Method} {ctx.Request.Path}.");
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            ctx.Abort();
        }
    }

    private async Task ProcessAsync(Exchange x)
    {
        var ctx = x.Ctx;
        var (body, tooLarge) = await ReadBodyAsync(ctx.Request, ctx.RequestAborted);
        LogRequest(x, body, tooLarge);
        if (tooLarge)
        {
            await WriteErrorAsync(x, 413, "payload_too_large", $"Request body exceeds {MaxBodyBytes} bytes.");
            return;
        }
        if (!HttpMethods.IsPost(ctx.Request.Method))
        {
            ctx.Response.Headers.Allow = "POST";
            await WriteErrorAsync(x, 405, "method_not_allowed", "Use POST for /getbackResponse.");
            return;
        }

        // 1. JSON object. Strings are copied out so the document can be released at once.
        string? prompt, apiKey, appName, fileUrl = null;
        bool fileUrlBad = false;
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new JsonException("not an object");
            prompt = StringProperty(root, "prompt");
            apiKey = StringProperty(root, "apiKey");
            appName = StringProperty(root, "appName");
            if (root.TryGetProperty("fileUrl", out var f) && f.ValueKind != JsonValueKind.Null)
            {
                if (f.ValueKind == JsonValueKind.String) fileUrl = f.GetString();
                else fileUrlBad = true;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string with lone surrogate escapes cannot become a .NET string.
            await WriteErrorAsync(x, 400, "invalid_json", "The request body is not a valid JSON object.");
            return;
        }

        // Every request carrying a prompt counts as an arrival; the index keys the fault plan and xN directives.
        long arrival = 0;
        if (!string.IsNullOrEmpty(prompt)) (x.Prompt, arrival) = _stats.Arrive(prompt);

        // 2. API key.
        if (apiKey is null || !_keys.Contains(apiKey))
        {
            await WriteErrorAsync(x, 401, "invalid_api_key", "The API key is missing or not valid.");
            return;
        }

        // 3. Rate limits; their headers go on every answer after auth.
        var rate = _limits.Check(apiKey);
        SetRateHeaders(ctx.Response, rate);
        if (!rate.Allowed && rate.RejectCode != "daily_quota_exceeded" && _style.Refusal == RefusalStyle.Html503)
        {
            await WriteTextAsync(x, 503, "text/html; charset=utf-8", Html503Body); // --refusal 503-html: a proxy's limiter page
            return;
        }
        if (!rate.Allowed)
        {
            if (_style.SendsRetryAfter || rate.RejectCode == "daily_quota_exceeded")
                ctx.Response.Headers.RetryAfter = rate.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            string text = rate.RejectCode == "daily_quota_exceeded"
                ? "Daily quota exceeded for this API key."
                : "Rate limit exceeded for this API key.";
            await WriteErrorAsync(x, 429, rate.RejectCode!, text);
            return;
        }

        // 4. Fields and app.
        if (string.IsNullOrEmpty(prompt))
        {
            await WriteErrorAsync(x, 400, "missing_prompt", "The prompt is missing or empty.");
            return;
        }
        if (string.IsNullOrEmpty(appName))
        {
            await WriteErrorAsync(x, 400, "missing_app_name", "The appName is missing or empty.");
            return;
        }
        if (fileUrlBad || (fileUrl != null && !IsHttpUrl(fileUrl)))
        {
            await WriteErrorAsync(x, 400, "invalid_file_url", "The fileUrl must be an absolute http or https URL.");
            return;
        }
        if (_apps != null && !_apps.Contains(appName))
        {
            await WriteErrorAsync(x, 404, "app_not_found", $"No app named '{appName}'.");
            return;
        }

        string message = fileUrl is null
            ? $"{appName} answers: {prompt}"
            : $"{appName} answers: {prompt} [file: {fileUrl}]";
        if (_jsonApps.Contains(appName) || _jsonApps.Contains("*")) message = JsonAnswers.Answer(prompt);

        // 5. Directive, then fault plan, then latency, then success.
        if (prompt.StartsWith(Directive.Prefix, StringComparison.Ordinal))
        {
            var d = Directive.Parse(prompt, out string? error);
            if (d is null)
            {
                await WriteErrorAsync(x, 400, "invalid_directive", error!);
                return;
            }
            if (d.AppliesTo(arrival) && await RunDirectiveAsync(x, d, message)) return;
        }

        var fault = _plan.Decide(prompt, arrival);
        int latency = _plan.LatencyMs(prompt, arrival);
        if (latency > 0) await DelayAsync(x, latency);

        switch (fault)
        {
            case Fault.Error500: await WriteErrorAsync(x, 500, "internal_error", "Internal server error."); return;
            case Fault.Html502: await WriteTextAsync(x, 502, "text/html; charset=utf-8", Html502Body); return;
            case Fault.Drop: Drop(x); return;
            case Fault.Hang: await HangAsync(x); return;
            case Fault.Unsuccessful: await WriteResultAsync(x, UnsuccessfulMessage, 422, false); return;
        }
        await WriteResultAsync(x, message, 200, true);
    }

    /// <summary>Produces the directive's response. Returns false when processing should continue (sleep).</summary>
    private async Task<bool> RunDirectiveAsync(Exchange x, Directive d, string message)
    {
        var headers = x.Ctx.Response.Headers;
        switch (d.Kind)
        {
            case "500":
                await WriteErrorAsync(x, 500, "internal_error", "Internal server error.");
                break;
            case "html502":
                await WriteTextAsync(x, 502, "text/html; charset=utf-8", Html502Body);
                break;
            case "status":
                int code = d.IntArg;
                await WriteErrorAsync(x, code, $"emulated_{code}", $"Emulated HTTP {code}.");
                break;
            case "429":
                headers.RetryAfter = d.Arg;
                await WriteErrorAsync(x, 429, "rate_limit_exceeded", "Rate limit exceeded for this API key.");
                break;
            case "429date":
                headers.RetryAfter = DateTimeOffset.UtcNow.AddSeconds(d.IntArg).ToString("R", CultureInfo.InvariantCulture);
                await WriteErrorAsync(x, 429, "rate_limit_exceeded", "Rate limit exceeded for this API key.");
                break;
            case "daily":
                headers.RetryAfter = "3600";
                headers["X-RateLimit-Remaining"] = "0";
                await WriteErrorAsync(x, 429, "daily_quota_exceeded", "Daily quota exceeded for this API key.");
                break;
            case "drop":
                Drop(x);
                break;
            case "dropmid":
                await DropMidBodyAsync(x, message);
                break;
            case "hang":
                await HangAsync(x);
                break;
            case "unsuccessful":
                await WriteResultAsync(x, UnsuccessfulMessage, 422, false);
                break;
            case "unsuccessful500":
                await WriteResultAsync(x, UnsuccessfulMessage, 500, false);
                break;
            case "empty":
                await WriteTextAsync(x, 200, JsonType, "");
                break;
            case "emptyerr":
                await WriteTextAsync(x, 500, JsonType, "");
                break;
            case "badjson":
                await WriteTextAsync(x, 200, JsonType, "this is not json");
                break;
            case "truncated":
                await WriteTextAsync(x, 200, JsonType, "{\"message\":\"cut");
                break;
            case "wrongshape":
                await WriteTextAsync(x, 200, JsonType, "{\"message\":42,\"status\":\"200\",\"success\":\"yes\"}");
                break;
            case "nomessage":
                await WriteTextAsync(x, 200, JsonType, "{\"status\":200,\"success\":true}");
                break;
            case "big":
                await WriteBigAsync(x, (long)(d.DoubleArg * 1024 * 1024));
                break;
            case "redirect":
                headers.Location = d.Arg;
                await WriteTextAsync(x, 307, null, "");
                break;
            case "sleep":
                await DelayAsync(x, d.IntArg);
                return false;
            case "echo":
                await WriteResultAsync(x, x.Ctx.Request.Headers.UserAgent.ToString(), 200, true);
                break;
            default:
                throw new InvalidOperationException($"Unhandled directive kind '{d.Kind}'.");
        }
        return true;
    }

    // ---- outcomes without a normal response ----

    private static void Drop(Exchange x)
    {
        x.Other = "dropped";
        x.Ctx.Abort();
    }

    /// <summary>Never answers. Recorded up front so stats show the hang while it is in progress.</summary>
    private async Task HangAsync(Exchange x)
    {
        x.Other = "hung";
        Record(x);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(x.Ctx.RequestAborted, _stopping);
        try
        {
            await Task.Delay(Timeout.Infinite, cts.Token);
        }
        catch (OperationCanceledException)
        {
            // Expected: the client gave up or the emulator is stopping.
        }
        x.Ctx.Abort(); // still never answer, and do not hold up shutdown
    }

    /// <summary>Status 200, headers and half a JSON body, then the connection dies.</summary>
    private static async Task DropMidBodyAsync(Exchange x, string message)
    {
        byte[] full = ResultJson(message, 200, true);
        var r = x.Ctx.Response;
        r.StatusCode = 200;
        r.ContentType = JsonType;
        r.ContentLength = full.Length;
        await r.Body.WriteAsync(full.AsMemory(0, full.Length / 2), x.Ctx.RequestAborted);
        await r.Body.FlushAsync(x.Ctx.RequestAborted);
        x.Other = "dropped";
        x.Ctx.Abort();
    }

    /// <summary>A valid success body whose message is <paramref name="bytes"/> of 'a', streamed in 64 KB chunks.</summary>
    private static async Task WriteBigAsync(Exchange x, long bytes)
    {
        byte[] head = "{\"message\":\""u8.ToArray();
        byte[] tail = "\",\"status\":200,\"success\":true}"u8.ToArray();
        byte[] chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)'a');

        var r = x.Ctx.Response;
        var ct = x.Ctx.RequestAborted;
        x.Status = 200;
        r.StatusCode = 200;
        r.ContentType = JsonType;
        r.ContentLength = head.Length + bytes + tail.Length;
        await r.Body.WriteAsync(head, ct);
        for (long left = bytes; left > 0; left -= chunk.Length)
        {
            await r.Body.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, left)), ct);
        }
        await r.Body.WriteAsync(tail, ct);
        x.Succeeded = true;
    }

    private async Task DelayAsync(Exchange x, int ms)
    {
        // Honors both the client going away and emulator shutdown (which would otherwise wait for the delay).
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(x.Ctx.RequestAborted, _stopping);
        await Task.Delay(ms, cts.Token);
    }

    // ---- writing responses ----

    private static Task WriteResultAsync(Exchange x, string message, int status, bool success)
    {
        x.Succeeded = success && status == 200;
        return WriteBytesAsync(x, 200, JsonType, ResultJson(message, status, success));
    }

    private static Task WriteErrorAsync(Exchange x, int status, string code, string message)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, Stats.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteString("code", code);
            w.WriteString("message", message);
            w.WriteString("request_id", x.Id);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return WriteBytesAsync(x, status, JsonType, buffer.WrittenMemory);
    }

    private static Task WriteTextAsync(Exchange x, int status, string? contentType, string text) =>
        WriteBytesAsync(x, status, contentType, Encoding.UTF8.GetBytes(text));

    private static async Task WriteBytesAsync(Exchange x, int status, string? contentType, ReadOnlyMemory<byte> body)
    {
        x.Status = status;
        var r = x.Ctx.Response;
        r.StatusCode = status;
        if (status is 204 or 205 or 304) return; // these statuses cannot carry a body
        if (contentType != null) r.ContentType = contentType;
        r.ContentLength = body.Length;
        if (body.Length > 0) await r.Body.WriteAsync(body, x.Ctx.RequestAborted);
    }

    private static byte[] ResultJson(string message, int status, bool success)
    {
        var buffer = new ArrayBufferWriter<byte>(message.Length + 64);
        using (var w = new Utf8JsonWriter(buffer, Stats.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("message", message);
            w.WriteNumber("status", status);
            w.WriteBoolean("success", success);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private void SetRateHeaders(HttpResponse response, RateDecision rate)
    {
        var h = response.Headers;
        if (_style.Headers != RateHeaderStyle.XRateLimit) { _style.WriteIetf(h, rate); return; }
        if (rate.Limit is int limit) h["X-RateLimit-Limit"] = limit.ToString(CultureInfo.InvariantCulture);
        if (rate.Remaining is int remaining) h["X-RateLimit-Remaining"] = remaining.ToString(CultureInfo.InvariantCulture);
        if (_limits.ResetHeader(rate) is string reset) h["X-RateLimit-Reset"] = reset;
    }

    // ---- helpers ----

    private void Record(Exchange x)
    {
        if (x.Recorded) return;
        x.Recorded = true;
        string? other = x.Other ?? (x.Status == 0 ? "aborted" : null);
        _stats.RecordOutcome(x.Status, other, x.Succeeded && other is null, x.Prompt);
    }

    private void LogRequest(Exchange x, byte[] body, bool tooLarge)
    {
        var req = x.Ctx.Request;
        int take = Math.Min(body.Length, LogBodyLimitBytes);
        _stats.Log(new LoggedRequest(
            x.Id,
            req.Method,
            req.Path.Value ?? "",
            req.ContentType,
            req.Headers.UserAgent.Count == 0 ? null : req.Headers.UserAgent.ToString(),
            Encoding.UTF8.GetString(body, 0, take),
            tooLarge ? req.ContentLength ?? -1 : body.Length,
            tooLarge || take < body.Length));
    }

    private static async Task<(byte[] Body, bool TooLarge)> ReadBodyAsync(HttpRequest req, CancellationToken ct)
    {
        try
        {
            if (req.ContentLength is long length)
            {
                if (length > MaxBodyBytes) return ([], true);
                var buffer = new byte[length];
                await req.Body.ReadExactlyAsync(buffer, ct);
                return (buffer, false);
            }
            using var ms = new MemoryStream();
            await req.Body.CopyToAsync(ms, ct);
            return (ms.ToArray(), false);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // Chunked body over Kestrel's MaxRequestBodySize.
            return ([], true);
        }
    }

    private static string? StringProperty(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool IsHttpUrl(string s) =>
        Uri.TryCreate(s, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps);
}
