namespace CalStudio.Emulator;

public enum Fault { None, Error500, Html502, Drop, Hang, Unsuccessful }

/// <summary>
/// Decides faults and latency from a stable hash of (seed, prompt, arrival index of that prompt), never from a shared
/// Random: the outcome for "prompt P, n-th arrival" is the same whatever the concurrency or arrival order, while a
/// retry (next arrival) gets a fresh draw.
/// </summary>
public sealed class FaultPlan
{
    private const ulong SaltFault = 0x6661756c74; // distinct streams for fault and latency draws
    private const ulong SaltLatency = 0x6c6174656e6379;

    private readonly ulong _seed;
    private readonly (double UpTo, Fault Kind)[] _steps;
    private readonly int _latencyMin;
    private readonly int _latencyMax;

    public FaultPlan(EmulatorOptions o)
    {
        _seed = o.Seed;
        _latencyMin = o.LatencyMinMs;
        _latencyMax = o.LatencyMaxMs;

        // Cumulative rates in the documented order: 500, 502-html, drop, hang, unsuccessful.
        var steps = new List<(double, Fault)>();
        double sum = 0;
        foreach (var (rate, kind) in new[]
                 {
                     (o.Fault500, Fault.Error500), (o.Fault502Html, Fault.Html502), (o.FaultDrop, Fault.Drop),
                     (o.FaultHang, Fault.Hang), (o.FaultUnsuccessful, Fault.Unsuccessful),
                 })
        {
            if (rate <= 0) continue;
            sum += rate;
            steps.Add((sum, kind));
        }
        _steps = steps.ToArray();
    }

    public Fault Decide(string prompt, long arrival)
    {
        if (_steps.Length == 0) return Fault.None;
        double u = StableHash.Unit(_seed, SaltFault, prompt, arrival);
        foreach (var (upTo, kind) in _steps)
        {
            if (u < upTo) return kind;
        }
        return Fault.None;
    }

    public int LatencyMs(string prompt, long arrival)
    {
        if (_latencyMax <= _latencyMin) return _latencyMin;
        double u = StableHash.Unit(_seed, SaltLatency, prompt, arrival);
        long span = (long)_latencyMax - _latencyMin + 1;
        return (int)Math.Min(_latencyMax, _latencyMin + (long)(u * span));
    }
}

/// <summary>
/// FNV-1a 64 over the inputs, finished with the murmur3 fmix64 avalanche (plain FNV has weak high bits for short
/// inputs). Stable across processes and platforms, unlike string.GetHashCode which is randomized per process.
/// </summary>
public static class StableHash
{
    private const ulong Offset = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;

    public static ulong Hash(ulong seed, ulong salt, string text, long arrival)
    {
        ulong h = Offset;
        h = AddUInt64(h, seed);
        h = AddUInt64(h, salt);
        // UTF-16 code units, low byte then high byte: no encoding allocation, even for megabyte prompts.
        foreach (char c in text)
        {
            h = (h ^ (byte)c) * Prime;
            h = (h ^ (byte)(c >> 8)) * Prime;
        }
        h = AddUInt64(h, (ulong)text.Length);
        h = AddUInt64(h, unchecked((ulong)arrival));
        return FMix64(h);
    }

    /// <summary>Maps the hash to [0,1) using its top 53 bits (exactly representable in a double).</summary>
    public static double Unit(ulong seed, ulong salt, string text, long arrival) =>
        (Hash(seed, salt, text, arrival) >> 11) * (1.0 / (1UL << 53));

    private static ulong AddUInt64(ulong h, ulong v)
    {
        for (int i = 0; i < 8; i++)
        {
            h = (h ^ (byte)(v >> (8 * i))) * Prime;
        }
        return h;
    }

    private static ulong FMix64(ulong k)
    {
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdUL;
        k ^= k >> 33;
        k *= 0xc4ceb9fe1a85ec53UL;
        k ^= k >> 33;
        return k;
    }
}
