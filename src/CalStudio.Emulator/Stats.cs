using System.Collections.Concurrent;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace CalStudio.Emulator;

/// <summary>Per-prompt counters. Arrived doubles as the arrival index source for the fault plan and directives.</summary>
public sealed class PromptCounters
{
    public long Arrived;
    public long Succeeded;
    public long Failed;
}

/// <summary>One entry of the request log ring (GET /_emulator/requests).</summary>
public sealed record LoggedRequest(
    string RequestId, string Method, string Path, string? ContentType, string? UserAgent, string Body, long BodyBytes, bool BodyTruncated);

/// <summary>
/// Counters for GET /_emulator/stats plus the request log. Everything is lock-free except the small ring buffer,
/// so the hot path stays cheap at thousands of requests per second.
/// </summary>
public sealed class Stats
{
    public static readonly JsonWriterOptions WriterOptions = new()
    {
        // Keeps non-ASCII text readable; output is valid JSON either way.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private const int LogCapacity = 200;

    private long _requests;
    private long _inFlight;
    private long _maxInFlight;
    private long[] _statusCounts = new long[600];
    // Outcomes without an HTTP status: "dropped", "hung", "aborted".
    private ConcurrentDictionary<string, long> _otherOutcomes = new(StringComparer.Ordinal);
    private ConcurrentDictionary<string, PromptCounters> _prompts = new(StringComparer.Ordinal);

    private readonly LoggedRequest?[] _log = new LoggedRequest?[LogCapacity];
    private long _logCount; // total ever logged since reset; guarded by _log

    public void CountRequest() => Interlocked.Increment(ref _requests);

    public void Enter()
    {
        long now = Interlocked.Increment(ref _inFlight);
        long max = Volatile.Read(ref _maxInFlight);
        while (now > max)
        {
            long seen = Interlocked.CompareExchange(ref _maxInFlight, now, max);
            if (seen == max) break;
            max = seen;
        }
    }

    public void Exit() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Registers an arrival of the prompt and returns its counters and 0-based arrival index.</summary>
    public (PromptCounters Counters, long Arrival) Arrive(string prompt)
    {
        var c = _prompts.GetOrAdd(prompt, static _ => new PromptCounters());
        return (c, Interlocked.Increment(ref c.Arrived) - 1);
    }

    /// <summary>Records a finished request: an HTTP status, or a named outcome when no status was sent.</summary>
    public void RecordOutcome(int status, string? other, bool succeeded, PromptCounters? prompt)
    {
        if (other != null) _otherOutcomes.AddOrUpdate(other, 1, static (_, n) => n + 1);
        else if (status is >= 100 and < 600) Interlocked.Increment(ref _statusCounts[status]);

        if (prompt != null)
        {
            if (succeeded) Interlocked.Increment(ref prompt.Succeeded);
            else Interlocked.Increment(ref prompt.Failed);
        }
    }

    public void Log(LoggedRequest entry)
    {
        lock (_log)
        {
            _log[_logCount % LogCapacity] = entry;
            _logCount++;
        }
    }

    /// <summary>Clears counters, arrival indexes and the log. In-flight requests keep counting; max restarts from now.</summary>
    public void Reset()
    {
        Interlocked.Exchange(ref _requests, 0);
        Interlocked.Exchange(ref _statusCounts, new long[600]);
        Interlocked.Exchange(ref _otherOutcomes, new ConcurrentDictionary<string, long>(StringComparer.Ordinal));
        Interlocked.Exchange(ref _prompts, new ConcurrentDictionary<string, PromptCounters>(StringComparer.Ordinal));
        Interlocked.Exchange(ref _maxInFlight, Volatile.Read(ref _inFlight));
        lock (_log)
        {
            Array.Clear(_log);
            _logCount = 0;
        }
    }

    /// <summary>Streams the stats JSON; the prompts map can hold 100,000+ entries so it is flushed in chunks.</summary>
    public async Task WriteStatsAsync(HttpResponse response, bool includePrompts, CancellationToken ct)
    {
        response.ContentType = "application/json; charset=utf-8";
        await using var w = new Utf8JsonWriter(response.BodyWriter, WriterOptions);
        w.WriteStartObject();
        w.WriteNumber("requests", Volatile.Read(ref _requests));
        w.WriteNumber("inFlight", Volatile.Read(ref _inFlight));
        w.WriteNumber("maxInFlight", Volatile.Read(ref _maxInFlight));

        w.WriteStartObject("statusCounts");
        long[] counts = Volatile.Read(ref _statusCounts);
        for (int s = 0; s < counts.Length; s++)
        {
            long n = Volatile.Read(ref counts[s]);
            if (n != 0) w.WriteNumber(s.ToString(System.Globalization.CultureInfo.InvariantCulture), n);
        }
        foreach (var (name, n) in _otherOutcomes.OrderBy(p => p.Key, StringComparer.Ordinal)) w.WriteNumber(name, n);
        w.WriteEndObject();

        if (includePrompts)
        {
            w.WriteStartObject("prompts");
            int sinceFlush = 0;
            foreach (var (prompt, c) in _prompts)
            {
                w.WriteStartObject(prompt);
                w.WriteNumber("arrived", Volatile.Read(ref c.Arrived));
                w.WriteNumber("succeeded", Volatile.Read(ref c.Succeeded));
                w.WriteNumber("failed", Volatile.Read(ref c.Failed));
                w.WriteEndObject();
                if (++sinceFlush >= 1000 || w.BytesPending > 64 * 1024)
                {
                    sinceFlush = 0;
                    await w.FlushAsync(ct);
                    await response.BodyWriter.FlushAsync(ct); // push to the socket instead of buffering it all

                }
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
        await w.FlushAsync(ct);
    }

    /// <summary>Writes the last N logged requests, oldest first.</summary>
    public async Task WriteRequestsAsync(HttpResponse response, int last, CancellationToken ct)
    {
        List<LoggedRequest> entries;
        lock (_log)
        {
            long available = Math.Min(_logCount, LogCapacity);
            long take = Math.Min(available, Math.Max(0, last));
            entries = new List<LoggedRequest>((int)take);
            for (long i = _logCount - take; i < _logCount; i++) entries.Add(_log[i % LogCapacity]!);
        }

        response.ContentType = "application/json; charset=utf-8";
        await using var w = new Utf8JsonWriter(response.BodyWriter, WriterOptions);
        w.WriteStartArray();
        foreach (var e in entries)
        {
            w.WriteStartObject();
            w.WriteString("requestId", e.RequestId);
            w.WriteString("method", e.Method);
            w.WriteString("path", e.Path);
            w.WriteString("contentType", e.ContentType);
            w.WriteString("userAgent", e.UserAgent);
            w.WriteString("body", e.Body);
            w.WriteNumber("bodyBytes", e.BodyBytes);
            w.WriteBoolean("bodyTruncated", e.BodyTruncated);
            w.WriteEndObject();
            if (w.BytesPending > 64 * 1024)
            {
                await w.FlushAsync(ct);
                await response.BodyWriter.FlushAsync(ct);
            }
        }
        w.WriteEndArray();
        await w.FlushAsync(ct);
    }
}
