using System.Globalization;

namespace CalStudio.Emulator.Api;

/// <summary>
/// POST /getbackResponse and the catch-all 404: the request pipeline. Validation order mirrors the real API: JSON,
/// key, rate limits, fields, app; then directive, fault plan, latency, success. Each step's answers live in a type of
/// their own in this folder.
/// </summary>
public sealed class ApiHandler
{
    public const long MaxBodyBytes = RequestBody.MaxBytes;

    private readonly HashSet<string> _keys;
    private readonly HashSet<string>? _apps;
    private readonly Stats _stats;
    private readonly OverloadGate _overload;
    private readonly RateLimitAnswers _rateLimits;
    private readonly AppAnswers _answers;
    private readonly DirectiveAnswers _directives;
    private readonly FaultAnswers _faults;
    private long _lastRequestId;

    public ApiHandler(EmulatorOptions o, FaultPlan plan, RateLimits limits, Stats stats, CancellationToken stopping)
    {
        _keys = new HashSet<string>(o.Keys, StringComparer.Ordinal);
        _apps = o.Apps.Count == 0 ? null : new HashSet<string>(o.Apps, StringComparer.Ordinal);
        _stats = stats;
        _overload = new OverloadGate(o.Overload);
        _rateLimits = new RateLimitAnswers(limits, new LimiterStyle(o.RateHeaders, o.Refusal, o.WindowMs));
        _answers = new AppAnswers(o.JsonApps);
        var interruptions = new Interruptions(stopping);
        _directives = new DirectiveAnswers(interruptions);
        _faults = new FaultAnswers(plan, interruptions);
    }

    private Exchange Begin(HttpContext ctx)
    {
        var x = new Exchange(ctx, "req_" + Interlocked.Increment(ref _lastRequestId).ToString(CultureInfo.InvariantCulture), _stats);
        ctx.Response.Headers["X-Request-Id"] = x.Id;
        return x;
    }

    public async Task HandleAsync(HttpContext ctx)
    {
        var x = Begin(ctx);
        _stats.CountRequest();
        _stats.Enter(); // in flight from entry to exit, including latency and hang time
        bool held = false;
        try
        {
            if (!_overload.TryEnter(out held))
            {
                await Responses.Html503Async(x);
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
                await Responses.ErrorAsync(x, 500, "internal_error", "Unexpected emulator error.");
            }
        }
        finally
        {
            if (held) _overload.Leave();
            x.Record();
            _stats.Exit();
        }
    }

    /// <summary>Any route the emulator does not know: 404, logged so tests can prove what reached this instance.</summary>
    public async Task HandleUnknownAsync(HttpContext ctx)
    {
        var x = Begin(ctx);
        try
        {
            var (body, tooLarge) = await RequestBody.ReadAsync(ctx.Request, ctx.RequestAborted);
            x.LogRequest(body, tooLarge);
            await Responses.ErrorAsync(x, 404, "not_found", $"No such endpoint: {ctx.Request.Method} {ctx.Request.Path}.");
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            ctx.Abort();
        }
    }

    private async Task ProcessAsync(Exchange x)
    {
        var ctx = x.Ctx;
        var (body, tooLarge) = await RequestBody.ReadAsync(ctx.Request, ctx.RequestAborted);
        x.LogRequest(body, tooLarge);
        if (tooLarge)
        {
            await Responses.ErrorAsync(x, 413, "payload_too_large", $"Request body exceeds {MaxBodyBytes} bytes.");
            return;
        }
        if (!HttpMethods.IsPost(ctx.Request.Method))
        {
            ctx.Response.Headers.Allow = "POST";
            await Responses.ErrorAsync(x, 405, "method_not_allowed", "Use POST for /getbackResponse.");
            return;
        }

        // 1. JSON object.
        if (ApiRequest.Parse(body) is not { } request)
        {
            await Responses.ErrorAsync(x, 400, "invalid_json", "The request body is not a valid JSON object.");
            return;
        }

        // Every request carrying a prompt counts as an arrival; the index keys the fault plan and xN directives.
        long arrival = 0;
        if (!string.IsNullOrEmpty(request.Prompt)) (x.Prompt, arrival) = _stats.Arrive(request.Prompt);

        // 2. API key.
        if (request.ApiKey is not { } apiKey || !_keys.Contains(apiKey))
        {
            await Responses.ErrorAsync(x, 401, "invalid_api_key", "The API key is missing or not valid.");
            return;
        }

        // 3. Rate limits.
        if (await _rateLimits.RefuseAsync(x, apiKey)) return;

        // 4. Fields and app.
        if (request.FieldError(_apps) is { } error)
        {
            await Responses.ErrorAsync(x, error);
            return;
        }
        string prompt = request.Prompt!, appName = request.AppName!;
        string message = _answers.For(appName, prompt, request.FileUrl);

        // 5. Directive, then fault plan (after its latency), then success.
        if (await _directives.AnswerAsync(x, prompt, arrival, message)) return;
        if (await _faults.AnswerAsync(x, prompt, arrival)) return;
        await Responses.ResultAsync(x, message, 200, true);
    }
}
