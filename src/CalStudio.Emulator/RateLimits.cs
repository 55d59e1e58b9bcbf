using System.Diagnostics;

namespace CalStudio.Emulator;

/// <summary>Wall-clock milliseconds driven by a monotonic stopwatch, so windows never jump when the system clock does.</summary>
public static class Clock
{
    private static readonly long StartUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    private static readonly Stopwatch Watch = Stopwatch.StartNew();

    public static long StartMs => StartUnixMs;
    public static long NowMs => StartUnixMs + Watch.ElapsedMilliseconds;
}

/// <summary>Outcome of a rate-limit check; header values are null when that limit is not configured.</summary>
public readonly record struct RateDecision(
    string? RejectCode, int RetryAfterSeconds, int? Limit, int? Remaining, long? ResetUnixSeconds)
{
    public bool Allowed => RejectCode is null;
}

/// <summary>
/// Per-key fixed windows: --rpm N per --window-ms, and --daily N per day. A key's rate window starts at its first
/// request after the previous window ended (so a test's burst is not split by an arbitrary boundary). Rejected
/// requests do not count. One lock per key: contention only between requests using the same key.
/// </summary>
public sealed class RateLimits
{
    private const long UtcDayMs = 86_400_000;

    private readonly int? _rpm;
    private readonly long _windowMs;
    private readonly int? _daily;
    private readonly long? _dayMs;
    private readonly Dictionary<string, KeyState> _keys; // fixed at startup, so reads need no lock

    private sealed class KeyState
    {
        public long WindowStart = long.MinValue;
        public int WindowCount;
        public long DayIndex = long.MinValue;
        public int DayCount;
    }

    public RateLimits(EmulatorOptions o)
    {
        _rpm = o.Rpm;
        _windowMs = o.WindowMs;
        _daily = o.Daily;
        _dayMs = o.DayMs;
        _keys = o.Keys.Distinct(StringComparer.Ordinal).ToDictionary(k => k, _ => new KeyState(), StringComparer.Ordinal);
    }

    public bool Enabled => _rpm.HasValue || _daily.HasValue;

    public RateDecision Check(string key)
    {
        if (!Enabled) return default;
        var s = _keys[key];
        long now = Clock.NowMs;
        lock (s)
        {
            long dayIndex = DayIndex(now);
            if (dayIndex != s.DayIndex)
            {
                s.DayIndex = dayIndex;
                s.DayCount = 0;
            }
            if (now >= s.WindowStart + _windowMs || s.WindowStart == long.MinValue)
            {
                s.WindowStart = now;
                s.WindowCount = 0;
            }
            long windowEnd = s.WindowStart + _windowMs;

            if (_daily is int daily && s.DayCount >= daily)
            {
                long dayEnd = DayEnd(dayIndex);
                return new RateDecision("daily_quota_exceeded", CeilSeconds(dayEnd - now), daily, 0, CeilUnixSeconds(dayEnd));
            }
            if (_rpm is int rpm && s.WindowCount >= rpm)
            {
                return new RateDecision("rate_limit_exceeded", CeilSeconds(windowEnd - now), rpm, 0, CeilUnixSeconds(windowEnd));
            }

            s.DayCount++;
            s.WindowCount++;
            return _rpm is int limit
                ? new RateDecision(null, 0, limit, limit - s.WindowCount, CeilUnixSeconds(windowEnd))
                : default;
        }
    }

    /// <summary>Clears rate windows and daily counters (POST /_emulator/reset).</summary>
    public void Reset()
    {
        foreach (var s in _keys.Values)
        {
            lock (s)
            {
                s.WindowStart = long.MinValue;
                s.WindowCount = 0;
                s.DayIndex = long.MinValue;
                s.DayCount = 0;
            }
        }
    }

    /// <summary>Clears only the daily counters (POST /_emulator/reset-day).</summary>
    public void ResetDay()
    {
        foreach (var s in _keys.Values)
        {
            lock (s)
            {
                s.DayCount = 0;
            }
        }
    }

    // Default day: UTC calendar day. With --day-ms: fixed days of that length counted from emulator start.
    private long DayIndex(long now) => _dayMs is long d ? (now - Clock.StartMs) / d : now / UtcDayMs;

    private long DayEnd(long index) => _dayMs is long d ? Clock.StartMs + (index + 1) * d : (index + 1) * UtcDayMs;

    private static int CeilSeconds(long ms) => (int)Math.Max(1, (ms + 999) / 1000);

    private static long CeilUnixSeconds(long unixMs) => (unixMs + 999) / 1000;
}
