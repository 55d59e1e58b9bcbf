using System.Globalization;

namespace CalStudio.Emulator;

/// <summary>
/// A test directive: the first whitespace-delimited word of a prompt starting with "emu:", shaped
/// emu:&lt;kind&gt;[:&lt;arg&gt;][xN]. It lets a test ask for one exact failure shape without configuring fault rates.
/// With xN it applies only to the first N arrivals of that exact prompt (so retries eventually succeed).
/// </summary>
public sealed record Directive(string Kind, string? Arg, long? Times)
{
    public const string Prefix = "emu:";

    private static readonly HashSet<string> NoArgKinds =
    [
        "500", "html502", "daily", "drop", "dropmid", "hang", "unsuccessful", "unsuccessful500", "empty", "emptyerr",
        "badjson", "truncated", "wrongshape", "nomessage", "echo",
    ];

    public bool AppliesTo(long arrival) => Times is null || arrival < Times.Value;

    public int IntArg => int.Parse(Arg!, NumberStyles.None, CultureInfo.InvariantCulture);

    public double DoubleArg => double.Parse(Arg!, NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>Returns null with an error when the prompt starts with "emu:" but the word is not a known directive.</summary>
    public static Directive? Parse(string prompt, out string? error)
    {
        error = null;
        int end = 0;
        while (end < prompt.Length && !char.IsWhiteSpace(prompt[end])) end++;
        string body = prompt[Prefix.Length..end];

        // Trailing "x<digits>" is the repeat limit, e.g. emu:500x2 or emu:429:5x3.
        long? times = null;
        int x = body.LastIndexOf('x');
        if (x > 0 && x < body.Length - 1 && body.AsSpan(x + 1).IndexOfAnyExceptInRange('0', '9') < 0)
        {
            if (!long.TryParse(body.AsSpan(x + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long n))
            {
                error = $"Bad repeat count in directive '{body}'.";
                return null;
            }
            times = n;
            body = body[..x];
        }

        int colon = body.IndexOf(':');
        string kind = colon < 0 ? body : body[..colon];
        string? arg = colon < 0 ? null : body[(colon + 1)..];

        bool ok = kind switch
        {
            _ when NoArgKinds.Contains(kind) => arg is null,
            "status" => IsInt(arg, 200, 599),
            "429" or "429date" => arg is null || IsInt(arg, 0, int.MaxValue),
            "sleep" => IsInt(arg, 0, int.MaxValue),
            "big" => double.TryParse(arg, NumberStyles.Float, CultureInfo.InvariantCulture, out double mb) && mb >= 0 && mb <= 1024,
            "redirect" => !string.IsNullOrEmpty(arg),
            _ => false,
        };
        if (!ok)
        {
            error = $"Unknown or malformed emulator directive '{Prefix}{body}'.";
            return null;
        }
        // 429 / 429date default to one second when no argument is given.
        if (kind is "429" or "429date" && arg is null) arg = "1";
        return new Directive(kind, arg, times);
    }

    private static bool IsInt(string? s, int min, int max) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max;
}
