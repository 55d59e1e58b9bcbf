// The fastest a .NET client can go against the emulator: one HttpClient, SemaphoreSlim-bounded concurrency,
// the same JSON body the module sends. Usage: HttpClientBaseline <url> <key> <count> <concurrency> [warmup]
// Prints: elapsed_ms=<n> requests_per_s=<n> ok=<n> failed=<n>
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

if (args.Length < 4)
{
    Console.Error.WriteLine("usage: HttpClientBaseline <url> <key> <count> <concurrency> [warmup]");
    return 2;
}
var baseUri = new Uri(args[0]);
string key = args[1];
int count = int.Parse(args[2]);
int concurrency = int.Parse(args[3]);
int warmup = args.Length > 4 ? int.Parse(args[4]) : 0;
if (!IPAddressIsLoopback(baseUri)) { Console.Error.WriteLine("loopback addresses only"); return 2; }

var endpoint = new Uri(baseUri, "getbackResponse");
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, UseCookies = false, AllowAutoRedirect = false });

async Task<int> RunAsync(string prefix, int n)
{
    using var gate = new SemaphoreSlim(concurrency, concurrency);
    int ok = 0;
    var tasks = new Task[n];
    for (int i = 0; i < n; i++)
    {
        await gate.WaitAsync();
        string prompt = prefix + i;
        tasks[i] = Task.Run(async () =>
        {
            try
            {
                byte[] body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
                {
                    ["prompt"] = prompt, ["apiKey"] = key, ["appName"] = "bench",
                });
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                using var response = await http.PostAsync(endpoint, content);
                string text = await response.Content.ReadAsStringAsync();
                using var doc = JsonDocument.Parse(text); // read the answer as a client would
                if (response.IsSuccessStatusCode) Interlocked.Increment(ref ok);
            }
            catch (Exception) { }
            finally { gate.Release(); }
        });
    }
    await Task.WhenAll(tasks);
    return ok;
}

if (warmup > 0) await RunAsync("warm-", warmup);
var clock = Stopwatch.StartNew();
int succeeded = await RunAsync("hc-", count);
clock.Stop();
double ms = clock.Elapsed.TotalMilliseconds;
Console.WriteLine(FormattableString.Invariant($"elapsed_ms={ms:0.0} requests_per_s={count / clock.Elapsed.TotalSeconds:0.0} ok={succeeded} failed={count - succeeded}"));
return succeeded == count ? 0 : 1;

static bool IPAddressIsLoopback(Uri u) => u.IsLoopback;
