using System.Globalization;

namespace CalStudio.Emulator;

/// <summary>Thrown for a bad command line; Program turns it into a stderr message and exit code 2.</summary>
public sealed class OptionsException(string message) : Exception(message);

/// <summary>
/// Parsed command line. Hand-rolled (no System.CommandLine) so the emulator needs nothing beyond the shared framework.
/// Both "--flag value" and "--flag=value" are accepted.
/// </summary>
public sealed class EmulatorOptions
{
    public const string DefaultKey = "cs_test_key_1";

    public int Port { get; private set; }
    public List<string> Keys { get; } = [];
    /// <summary>Empty means any appName is accepted.</summary>
    public List<string> Apps { get; } = [];
    /// <summary>Apps that answer in JSON (JsonAnswers); "*" is every app.</summary>
    public List<string> JsonApps { get; } = [];
    public int LatencyMinMs { get; private set; }
    public int LatencyMaxMs { get; private set; }
    public ulong Seed { get; private set; } = 1;

    // Fault rates, in the order the fault plan walks them.
    public double Fault500 { get; private set; }
    public double Fault502Html { get; private set; }
    public double FaultDrop { get; private set; }
    public double FaultHang { get; private set; }
    public double FaultUnsuccessful { get; private set; }

    public int? Rpm { get; private set; }
    public long WindowMs { get; private set; } = 60_000;
    // Rate-window schemes (issue 10): how the window counts and how X-RateLimit-Reset is written.
    public WindowKind WindowKind { get; private set; } = WindowKind.Anchored;
    public ResetFormat ResetFormat { get; private set; } = ResetFormat.WholeEpoch;
    // Limiter styles (issue 18): the header form of the limits, and how a request past the window is refused.
    public RateHeaderStyle RateHeaders { get; private set; } = RateHeaderStyle.XRateLimit;
    public RefusalStyle Refusal { get; private set; } = RefusalStyle.Status429;
    public int? Daily { get; private set; }
    /// <summary>Null: the day ends at the next UTC midnight. Otherwise fixed days of this length from start.</summary>
    public long? DayMs { get; private set; }

    /// <summary>--overload N: the app takes N requests at a time; the rest get a 503 at once, as from a proxy in front.</summary>
    public int? Overload { get; private set; }

    public bool Https { get; private set; }
    public string? CertPath { get; private set; }
    public string? CertPassword { get; private set; }
    public bool ExitOnStdinEof { get; private set; }
    public bool ShowHelp { get; private set; }

    public const string Usage = """
        CalStudio API emulator (binds 127.0.0.1 only)

        Usage: CalStudio.Emulator [options]
          --port N                 port, 0 = any free port (default 0)
          --key K                  accepted API key, repeatable (default cs_test_key_1)
          --app NAME               known app, repeatable (default: any app accepted)
          --json-app NAME          this app answers JSON from the prompt, in varied forms (repeatable; * = all)
          --latency-ms N|MIN-MAX   per-request latency, uniform in range
          --seed N                 seed for every random decision (default 1)
          --fault-500 R            rate 0..1 of HTTP 500 envelopes
          --fault-502-html R       rate of HTML 502 pages
          --fault-drop R           rate of dropped connections
          --fault-hang R           rate of requests never answered
          --fault-unsuccessful R   rate of 200 {"success":false}
          --rpm N                  per-key requests per window
          --window-ms W            rate window length (default 60000)
          --window-kind K          fixed (count restarts at each boundary), sliding (the last W ms count) or
                                   bucket (tokens refill over W); default: fixed windows from a key's first request
          --reset-format F         X-RateLimit-Reset as epoch (Unix s.ms), delta (s.ms from now) or none;
                                   default: whole Unix seconds rounded up
          --rate-headers H         x-ratelimit (default), draft6 (RateLimit-Limit/-Remaining/-Reset), draft7
                                   (RateLimit: limit=, remaining=, reset=), draft8 (RateLimit: "default";r=;t=)
                                   or none (no headers, no Retry-After on a refusal)
          --refusal R              429 (default) or 503-html (a proxy limiter's page: no Retry-After)
          --daily N                per-key requests per day
          --day-ms D               day length in ms from start (default: until next UTC midnight)
          --overload N             requests past N in flight get an HTML 503 at once
          --https --cert F.pfx [--cert-password P]   serve HTTPS
          --exit-on-stdin-eof      exit when stdin closes (parent died)
        """;

    public static EmulatorOptions Parse(string[] args)
    {
        var o = new EmulatorOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string? inline = null;
            int eq = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                inline = arg[(eq + 1)..];
                arg = arg[..eq];
            }

            // Reads the flag's value: inline "=value" or the next argument.
            string Value()
            {
                if (inline != null) return inline;
                if (i + 1 >= args.Length) throw new OptionsException($"{arg} needs a value.");
                return args[++i];
            }

            void NoValue()
            {
                if (inline != null) throw new OptionsException($"{arg} takes no value.");
            }

            switch (arg)
            {
                case "-h" or "--help" or "-?": NoValue(); o.ShowHelp = true; break;
                case "--port": o.Port = ParseInt(arg, Value(), 0, 65535); break;
                case "--key":
                    {
                        string k = Value();
                        if (k.Length == 0) throw new OptionsException("--key must not be empty.");
                        o.Keys.Add(k);
                        break;
                    }
                case "--app":
                    {
                        string a = Value();
                        if (a.Length == 0) throw new OptionsException("--app must not be empty.");
                        o.Apps.Add(a);
                        break;
                    }
                case "--json-app":
                    {
                        string a = Value();
                        if (a.Length == 0) throw new OptionsException("--json-app must not be empty.");
                        o.JsonApps.Add(a);
                        break;
                    }
                case "--latency-ms": o.ParseLatency(Value()); break;
                case "--seed":
                    {
                        string v = Value();
                        if (!ulong.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed))
                        {
                            // Accept negative seeds too; only the bits matter.
                            if (!long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long s))
                                throw new OptionsException($"--seed: '{v}' is not an integer.");
                            seed = unchecked((ulong)s);
                        }
                        o.Seed = seed;
                        break;
                    }
                case "--fault-500": o.Fault500 = ParseRate(arg, Value()); break;
                case "--fault-502-html": o.Fault502Html = ParseRate(arg, Value()); break;
                case "--fault-drop": o.FaultDrop = ParseRate(arg, Value()); break;
                case "--fault-hang": o.FaultHang = ParseRate(arg, Value()); break;
                case "--fault-unsuccessful": o.FaultUnsuccessful = ParseRate(arg, Value()); break;
                case "--rpm": o.Rpm = ParseInt(arg, Value(), 1, int.MaxValue); break;
                case "--window-ms": o.WindowMs = ParseInt(arg, Value(), 1, int.MaxValue); break;
                case "--window-kind": o.WindowKind = ParseChoice(arg, Value(), WindowKind.Fixed, WindowKind.Sliding, WindowKind.Bucket); break;
                case "--reset-format": o.ResetFormat = ParseChoice(arg, Value(), ResetFormat.Epoch, ResetFormat.Delta, ResetFormat.None); break;
                case "--rate-headers": o.RateHeaders = LimiterStyle.ParseHeaders(arg, Value()); break;
                case "--refusal": o.Refusal = LimiterStyle.ParseRefusal(arg, Value()); break;
                case "--daily": o.Daily = ParseInt(arg, Value(), 1, int.MaxValue); break;
                case "--day-ms": o.DayMs = ParseInt(arg, Value(), 1, int.MaxValue); break;
                case "--overload": o.Overload = ParseInt(arg, Value(), 0, int.MaxValue); break;
                case "--https": NoValue(); o.Https = true; break;
                case "--cert": o.CertPath = Value(); break;
                case "--cert-password": o.CertPassword = Value(); break;
                case "--exit-on-stdin-eof": NoValue(); o.ExitOnStdinEof = true; break;
                default: throw new OptionsException($"Unknown argument '{args[i]}'. Use --help for usage.");
            }
        }

        if (o.Keys.Count == 0) o.Keys.Add(DefaultKey);
        double total = o.Fault500 + o.Fault502Html + o.FaultDrop + o.FaultHang + o.FaultUnsuccessful;
        if (total > 1.0 + 1e-9) throw new OptionsException($"Fault rates add up to {total.ToString(CultureInfo.InvariantCulture)}; they must not exceed 1.");
        if (o.Https && string.IsNullOrEmpty(o.CertPath)) throw new OptionsException("--https needs --cert PATH.pfx.");
        if (!o.Https && o.CertPath != null) throw new OptionsException("--cert is only valid with --https.");
        if (o.CertPath != null && !File.Exists(o.CertPath)) throw new OptionsException($"Certificate file not found: {o.CertPath}");
        return o;
    }

    private void ParseLatency(string v)
    {
        // "N" or "MIN-MAX"; the dash is searched after the first char so a stray sign gets a clear error below.
        int dash = v.IndexOf('-', 1 < v.Length ? 1 : 0);
        if (dash > 0)
        {
            LatencyMinMs = ParseInt("--latency-ms", v[..dash], 0, int.MaxValue);
            LatencyMaxMs = ParseInt("--latency-ms", v[(dash + 1)..], 0, int.MaxValue);
            if (LatencyMaxMs < LatencyMinMs) throw new OptionsException($"--latency-ms: range '{v}' has MAX below MIN.");
        }
        else
        {
            LatencyMinMs = LatencyMaxMs = ParseInt("--latency-ms", v, 0, int.MaxValue);
        }
    }

    private static int ParseInt(string flag, string v, int min, int max)
    {
        if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            throw new OptionsException($"{flag}: '{v}' is not an integer in {min}..{max}.");
        return n;
    }

    private static T ParseChoice<T>(string flag, string v, params T[] choices) where T : struct, Enum
    {
        foreach (var c in choices)
            if (string.Equals(c.ToString(), v, StringComparison.OrdinalIgnoreCase)) return c;
        throw new OptionsException($"{flag}: '{v}' is not one of {string.Join(", ", choices.Select(c => c.ToString().ToLowerInvariant()))}.");
    }

    private static double ParseRate(string flag, string v)
    {
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) || double.IsNaN(r) || r < 0 || r > 1)
            throw new OptionsException($"{flag}: '{v}' is not a rate in 0..1.");
        return r;
    }
}
