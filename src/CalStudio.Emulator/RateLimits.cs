using System.Diagnostics;
using System.Globalization;

namespace CalStudio.Emulator;

/// <summary>Wall-clock milliseconds driven by a monotonic stopwatch, so windows never jump when the system clock does.</summary>
public static class Clock
{
    private static readonly long StartUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    private static readonly Stopwatch Watch = Stopwatch.StartNew();

    public static long StartMs => StartUnixMs;
    public static long NowMs => StartUnixMs + Watch.ElapsedMilliseconds;
}

/// <summary>How the rate window counts (--window-kind). Anchored is the default: the behaviour before the option existed.</summary>
public enum WindowKind
{
    /// <summary>Fixed windows that start at a key's first request after the previous window ended.</summary>
    Anchored,
    /// <summary>Fixed windows on boundaries at multiples of the window length since the Unix epoch; Reset is the boundary.</summary>
    Fixed,
    /// <summary>A log of the last window's requests; Reset is when the window is entirely free (newest + window).</summary>
    Sliding,
    /// <summary>A token bucket of --rpm tokens refilled continuously over the window; Reset is when it is full again.</summary>
    Bucket,
}

/// <summary>
/// How X-RateLimit-Reset is written (--reset-format). Epoch and Delta are seconds to the millisecond ("1764230000.35",
/// "2.65"); WholeEpoch, the default, is whole Unix seconds rounded up, as before the option existed.
/// </summary>
public enum ResetFormat { WholeEpoch, Epoch, Delta, None }

/// <summary>Outcome of a rate-limit check; header values are null when that limit is not configured.</summary>
/// <param name="ResetUnixMs">When the window is free again (Unix ms), or null when no Reset header is sent.</param>
/// <param name="RetryAfterSeconds">On a rejection: whole seconds until the next request can pass (rounded up).</param>
public readonly record struct RateDecision(
    string? RejectCode, int RetryAfterSeconds, int? Limit, int? Remaining, long? ResetUnixMs)
{
    public bool Allowed => RejectCode is null;
}

/// <summary>
/// Per-key rate limits: --rpm N per --window-ms counted as --window-kind says, and --daily N per day. Rejected
/// requests do not count. One lock per key: contention only between requests using the same key.
/// </summary>
public sealed class RateLimits
{
    private const long UtcDayMs = 86_400_000;

    private readonly int? _rpm;
    private readonly long _windowMs;
    private readonly WindowKind _kind;
    private readonly ResetFormat _resetFormat;
    private readonly int? _daily;
    private readonly long? _dayMs;
    private readonly Dictionary<string, KeyState> _keys; // fixed at startup, so reads need no lock

    private sealed class KeyState
    {
        // Anchored and fixed windows.
        public long WindowStart = long.MinValue;
        public int WindowCount;
        // Sliding windows: arrival times of the requests still in the window, oldest first.
        public readonly Queue<long> Arrivals = new();
        // Token bucket: tokens as of BucketTime (NaN until the first request: the bucket starts full).
        public double Tokens = double.NaN;
        public long BucketTime;

        public long DayIndex = long.MinValue;
        public int DayCount;
    }

    public RateLimits(EmulatorOptions o)
    {
        _rpm = o.Rpm;
        _windowMs = o.WindowMs;
        _kind = o.WindowKind;
        _resetFormat = o.ResetFormat;
        _daily = o.Daily;
        _dayMs = o.DayMs;
        _keys = o.Keys.Distinct(StringComparer.Ordinal).ToDictionary(k => k, _ => new KeyState(), StringComparer.Ordinal);
    }

    public bool Enabled => _rpm.HasValue || _daily.HasValue;

    /// <summary>The X-RateLimit-Reset header for a decision, or null when none is sent.</summary>
    public string? ResetHeader(RateDecision rate)
    {
        if (rate.ResetUnixMs is not long reset) return null;
        switch (_resetFormat)
        {
            case ResetFormat.None: return null;
            case ResetFormat.WholeEpoch: return ((reset + 999) / 1000).ToString(CultureInfo.InvariantCulture);
            case ResetFormat.Epoch: return (reset / 1000m).ToString("0.###", CultureInfo.InvariantCulture);
            default: return (Math.Max(0, reset - Clock.NowMs) / 1000m).ToString("0.###", CultureInfo.InvariantCulture);
        }
    }

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
            if (_daily is int daily && s.DayCount >= daily)
            {
                long dayEnd = DayEnd(dayIndex);
                return new RateDecision("daily_quota_exceeded", CeilSeconds(dayEnd - now), daily, 0, dayEnd);
            }
            if (_rpm is not int rpm)
            {
                s.DayCount++;
                return default;
            }

            var window = _kind switch
            {
                WindowKind.Sliding => Sliding(s, rpm, now),
                WindowKind.Bucket => Bucket(s, rpm, now),
                _ => Fixed(s, rpm, now),
            };
            if (window.RejectCode is null) s.DayCount++;
            return window;
        }
    }

    private RateDecision Fixed(KeyState s, int rpm, long now)
    {
        if (_kind == WindowKind.Fixed)
        {
            long start = now - Mod(now, _windowMs);
            if (start != s.WindowStart) { s.WindowStart = start; s.WindowCount = 0; }
        }
        else if (now >= s.WindowStart + _windowMs || s.WindowStart == long.MinValue)
        {
            s.WindowStart = now;
            s.WindowCount = 0;
        }
        long windowEnd = s.WindowStart + _windowMs;
        if (s.WindowCount >= rpm) return Rejected(rpm, windowEnd - now, windowEnd);
        s.WindowCount++;
        return new RateDecision(null, 0, rpm, rpm - s.WindowCount, windowEnd);
    }

    private RateDecision Sliding(KeyState s, int rpm, long now)
    {
        while (s.Arrivals.Count > 0 && s.Arrivals.Peek() <= now - _windowMs) s.Arrivals.Dequeue();
        if (s.Arrivals.Count >= rpm)
            return Rejected(rpm, s.Arrivals.Peek() + _windowMs - now, LastArrival(s) + _windowMs);
        s.Arrivals.Enqueue(now);
        return new RateDecision(null, 0, rpm, rpm - s.Arrivals.Count, now + _windowMs);
    }

    private RateDecision Bucket(KeyState s, int rpm, long now)
    {
        double perMs = rpm / (double)_windowMs;
        s.Tokens = double.IsNaN(s.Tokens) ? rpm : Math.Min(rpm, s.Tokens + (now - s.BucketTime) * perMs);
        s.BucketTime = now;
        long FullAt() => now + (long)Math.Ceiling((rpm - s.Tokens) / perMs);
        if (s.Tokens < 1) return Rejected(rpm, (long)Math.Ceiling((1 - s.Tokens) / perMs), FullAt());
        s.Tokens -= 1;
        return new RateDecision(null, 0, rpm, (int)Math.Floor(s.Tokens), FullAt());
    }

    private static long LastArrival(KeyState s)
    {
        long last = 0;
        foreach (long a in s.Arrivals) last = a;
        return last;
    }

    private static RateDecision Rejected(int rpm, long waitMs, long resetUnixMs) =>
        new("rate_limit_exceeded", CeilSeconds(waitMs), rpm, 0, resetUnixMs);

    /// <summary>Clears rate windows and daily counters (POST /_emulator/reset).</summary>
    public void Reset()
    {
        foreach (var s in _keys.Values)
        {
            lock (s)
            {
                s.WindowStart = long.MinValue;
                s.WindowCount = 0;
                s.Arrivals.Clear();
                s.Tokens = double.NaN;
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

    private static long Mod(long a, long m) => ((a % m) + m) % m;

    private static int CeilSeconds(long ms) => (int)Math.Max(1, (ms + 999) / 1000);
}
