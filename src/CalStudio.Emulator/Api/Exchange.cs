using System.Text;

namespace CalStudio.Emulator.Api;

/// <summary>
/// State of one request, so its outcome is recorded exactly once whatever path it took, and its log entry.
/// </summary>
internal sealed class Exchange(HttpContext ctx, string id, Stats stats)
{
    private const int LogBodyLimitBytes = 256 * 1024; // the ring holds 200 entries; cap each so it stays small

    public HttpContext Ctx { get; } = ctx;
    public string Id { get; } = id;
    public int Status;
    public string? Other;      // "dropped", "hung", "aborted": no HTTP status reached the client
    public bool Succeeded;     // answered 200 with success:true
    public PromptCounters? Prompt;
    private bool _recorded;

    public void Record()
    {
        if (_recorded) return;
        _recorded = true;
        string? other = Other ?? (Status == 0 ? "aborted" : null);
        stats.RecordOutcome(Status, other, Succeeded && other is null, Prompt);
    }

    public void LogRequest(byte[] body, bool tooLarge)
    {
        var req = Ctx.Request;
        int take = Math.Min(body.Length, LogBodyLimitBytes);
        stats.Log(new LoggedRequest(
            Id,
            req.Method,
            req.Path.Value ?? "",
            req.ContentType,
            req.Headers.UserAgent.Count == 0 ? null : req.Headers.UserAgent.ToString(),
            Encoding.UTF8.GetString(body, 0, take),
            tooLarge ? req.ContentLength ?? -1 : body.Length,
            tooLarge || take < body.Length));
    }
}
