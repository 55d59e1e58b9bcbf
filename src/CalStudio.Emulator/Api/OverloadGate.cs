namespace CalStudio.Emulator.Api;

/// <summary>
/// --overload N: past N requests in flight the proxy in front of the app answers 503 at once, before the app (or its
/// rate limits) sees the request. Without the option every request is let in and nothing is counted.
/// </summary>
internal sealed class OverloadGate(int? most)
{
    private int _inFlight; // requests the app is serving

    /// <summary>False when the request is to be refused. <paramref name="held"/>: a place was taken; give it back with <see cref="Leave"/>.</summary>
    public bool TryEnter(out bool held)
    {
        held = false;
        if (most is not int limit) return true;
        if (Interlocked.Increment(ref _inFlight) <= limit) return held = true;
        Interlocked.Decrement(ref _inFlight);
        return false;
    }

    public void Leave() => Interlocked.Decrement(ref _inFlight);
}
