using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CalStudio.Emulator;
using CalStudio.Emulator.Api;

// CLI and wiring for the CalStudio API emulator. Contract with callers: the first stdout line is exactly
// "CalStudio emulator listening on <url>" (tests and scripts parse the port from it); bad arguments exit with 2.

EmulatorOptions options;
try
{
    options = EmulatorOptions.Parse(args);
}
catch (OptionsException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
if (options.ShowHelp)
{
    Console.Out.WriteLine(EmulatorOptions.Usage);
    return 0;
}

// Load the certificate up front so a wrong path or password is a clean argument error, not a crash in Kestrel.
X509Certificate2? certificate = null;
if (options.Https)
{
    try
    {
        certificate = X509CertificateLoader.LoadPkcs12FromFile(options.CertPath!, options.CertPassword);
    }
    catch (CryptographicException e)
    {
        Console.Error.WriteLine($"error: cannot load certificate '{options.CertPath}': {e.Message}");
        return 2;
    }
}

// No args to the builder: our flags must not be read as host configuration (e.g. --urls).
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
{
    Args = [],
    ContentRootPath = AppContext.BaseDirectory,
});
builder.Logging.ClearProviders(); // quiet and fast: console logging costs a lot at thousands of req/s
builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(3));
if (options.Https) builder.WebHost.UseKestrelHttpsConfiguration(); // the slim builder leaves HTTPS out by default
builder.WebHost.ConfigureKestrel(k =>
{
    k.AddServerHeader = false;
    k.Limits.MaxRequestBodySize = ApiHandler.MaxBodyBytes;
    // Loopback only: this is a test double and must never be reachable from the network.
    k.Listen(IPAddress.Loopback, options.Port, listen =>
    {
        if (certificate != null) listen.UseHttps(certificate);
    });
});

var app = builder.Build();
var stats = new Stats();
var limits = new RateLimits(options);
var handler = new ApiHandler(options, new FaultPlan(options), limits, stats, app.Lifetime.ApplicationStopping);

app.Map("/getbackResponse", handler.HandleAsync);

app.MapGet("/_emulator/stats", (HttpContext ctx) =>
{
    bool prompts = !string.Equals(ctx.Request.Query["prompts"], "false", StringComparison.OrdinalIgnoreCase);
    return stats.WriteStatsAsync(ctx.Response, prompts, ctx.RequestAborted);
});
app.MapGet("/_emulator/requests", (HttpContext ctx) =>
{
    int last = int.TryParse(ctx.Request.Query["last"], out int n) ? n : int.MaxValue;
    return stats.WriteRequestsAsync(ctx.Response, last, ctx.RequestAborted);
});
app.MapPost("/_emulator/reset", () =>
{
    stats.Reset();
    limits.Reset();
    return Results.Text("{\"ok\":true}", "application/json");
});
app.MapPost("/_emulator/reset-day", () =>
{
    limits.ResetDay();
    return Results.Text("{\"ok\":true}", "application/json");
});

// Explicit pattern: the default fallback skips paths that look like files (e.g. /x.json).
app.MapFallback("{**path}", handler.HandleUnknownAsync);

try
{
    await app.StartAsync();
}
catch (Exception e)
{
    Console.Error.WriteLine($"error: could not start the emulator: {e.Message}");
    return 1;
}

string address = app.Urls.First();
int port = new Uri(address).Port;
Console.Out.WriteLine($"CalStudio emulator listening on {(options.Https ? "https" : "http")}://127.0.0.1:{port}");
Console.Out.WriteLine("Press Ctrl+C to stop.");
Console.Out.Flush();

if (options.ExitOnStdinEof)
{
    // A blocking read on a background thread: when the parent process dies its end of the pipe closes.
    var stdinWatcher = new Thread(() =>
    {
        try
        {
            using var stdin = Console.OpenStandardInput();
            var buffer = new byte[256];
            while (stdin.Read(buffer, 0, buffer.Length) > 0)
            {
            }
        }
        catch (IOException)
        {
        }
        app.Lifetime.StopApplication();
    })
    { IsBackground = true, Name = "stdin-eof-watcher" };
    stdinWatcher.Start();
}

// ConsoleLifetime turns Ctrl+C and SIGTERM into a graceful stop.
await app.WaitForShutdownAsync();
await app.DisposeAsync();
return 0;
