// A real HTTP proxy on loopback for the Pester suites (Add-Type -Path): forwards absolute-form requests (http targets),
// tunnels CONNECT (https targets), optionally demands Basic proxy authentication (407 without it), and records
// everything it receives: each request head, each forwarded body, and the bytes a client sent into its tunnels.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

public sealed class CalStudioTestProxy : IDisposable
{
    private const int TunnelRecordLimit = 4 * 1024 * 1024;
    private readonly TcpListener _listener;
    private readonly string _requiredAuthorization;
    private readonly ConcurrentQueue<string> _heads = new ConcurrentQueue<string>();
    private readonly ConcurrentQueue<string> _bodies = new ConcurrentQueue<string>();
    private readonly MemoryStream _tunnelled = new MemoryStream();
    private int _challenges;
    private int _connects;
    private int _forwards;

    /// <param name="user">With <paramref name="password"/>: the Basic login the proxy demands; null: it lets everyone through.</param>
    public CalStudioTestProxy(string user, string password)
    {
        if (user != null)
            _requiredAuthorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        Task.Run(AcceptLoop);
    }

    public int Port { get; private set; }
    public string Address { get { return "http://127.0.0.1:" + Port; } }

    /// <summary>Every request head received (request line and headers), in arrival order, refused ones included.</summary>
    public string[] Heads { get { return _heads.ToArray(); } }
    public string[] RequestLines { get { return _heads.Select(h => h.Split(new[] { "\r\n" }, StringSplitOptions.None)[0]).ToArray(); } }
    /// <summary>Every request body received with a head (empty for CONNECT and bodiless requests).</summary>
    public string[] Bodies { get { return _bodies.ToArray(); } }
    /// <summary>What clients sent into CONNECT tunnels after the 200 (TLS records, for an https target), as Latin-1 text.</summary>
    public string TunnelledText { get { lock (_tunnelled) return Encoding.GetEncoding("ISO-8859-1").GetString(_tunnelled.ToArray()); } }
    public long TunnelledBytes { get { lock (_tunnelled) return _tunnelled.Length; } }
    public int Challenges { get { return Volatile.Read(ref _challenges); } }
    public int Connects { get { return Volatile.Read(ref _connects); } }
    public int Forwards { get { return Volatile.Read(ref _forwards); } }
    public string Everything { get { return string.Join("\n", Heads) + "\n" + string.Join("\n", Bodies) + "\n" + TunnelledText; } }

    private async Task AcceptLoop()
    {
        while (true)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(); } catch { return; }
            var ignored = Task.Run(() => Serve(client));
        }
    }

    private static async Task<string> ReadHead(Stream s)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (bytes.Count < 4 || bytes[bytes.Count - 4] != 13 || bytes[bytes.Count - 3] != 10 || bytes[bytes.Count - 2] != 13 || bytes[bytes.Count - 1] != 10)
        {
            if (await s.ReadAsync(one, 0, 1) == 0 || bytes.Count > 65536) return null;
            bytes.Add(one[0]);
        }
        return Encoding.ASCII.GetString(bytes.ToArray());
    }

    private static async Task Write(Stream s, string text)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        await s.WriteAsync(bytes, 0, bytes.Length);
    }

    private async Task Serve(TcpClient client)
    {
        try
        {
            using (client)
            {
                var s = client.GetStream();
                while (true) // a refused request may be asked again, with the login, on the same connection
                {
                    string head = await ReadHead(s);
                    if (head == null) return;
                    _heads.Enqueue(head);
                    string[] lines = head.Split(new[] { "\r\n" }, StringSplitOptions.RemoveEmptyEntries);
                    string[] requestLine = lines[0].Split(' ');
                    int length = 0;
                    string authorization = null;
                    var forward = new StringBuilder();
                    for (int i = 1; i < lines.Length; i++)
                    {
                        int colon = lines[i].IndexOf(':');
                        if (colon < 0) continue;
                        string name = lines[i].Substring(0, colon).Trim();
                        string value = lines[i].Substring(colon + 1).Trim();
                        if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) length = int.Parse(value);
                        if (name.Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase)) authorization = value;
                        if (name.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase) || name.Equals("Connection", StringComparison.OrdinalIgnoreCase)) continue;
                        forward.Append(lines[i]).Append("\r\n");
                    }
                    var body = new byte[length];
                    for (int read = 0; read < length;)
                    {
                        int n = await s.ReadAsync(body, read, length - read);
                        if (n == 0) return;
                        read += n;
                    }
                    _bodies.Enqueue(Encoding.UTF8.GetString(body));

                    if (_requiredAuthorization != null && authorization != _requiredAuthorization)
                    {
                        Interlocked.Increment(ref _challenges);
                        await Write(s, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"calstudio-test\"\r\nContent-Length: 0\r\n\r\n");
                        continue;
                    }
                    if (requestLine[0] == "CONNECT") { await Tunnel(s, requestLine[1]); return; }
                    await Forward(s, requestLine, forward.ToString(), body);
                    return;
                }
            }
        }
        catch (Exception) { } // a client that hangs up ends its connection only
    }

    private async Task Tunnel(Stream s, string authority)
    {
        Interlocked.Increment(ref _connects);
        int colon = authority.LastIndexOf(':');
        using (var upstream = new TcpClient())
        {
            try { await upstream.ConnectAsync(authority.Substring(0, colon).Trim('[', ']'), int.Parse(authority.Substring(colon + 1))); }
            catch (SocketException) { await Write(s, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"); return; }
            var u = upstream.GetStream();
            await Write(s, "HTTP/1.1 200 Connection established\r\n\r\n");
            var toServer = Pump(s, u, record: true);
            var toClient = Pump(u, s, record: false);
            await Task.WhenAny(toServer, toClient);
        }
    }

    private async Task Pump(Stream from, Stream to, bool record)
    {
        var buffer = new byte[16 * 1024];
        int n;
        try
        {
            while ((n = await from.ReadAsync(buffer, 0, buffer.Length)) > 0)
            {
                if (record) lock (_tunnelled) if (_tunnelled.Length < TunnelRecordLimit) _tunnelled.Write(buffer, 0, n);
                await to.WriteAsync(buffer, 0, n);
            }
        }
        catch (Exception) { }
    }

    private async Task Forward(Stream s, string[] requestLine, string headers, byte[] body)
    {
        Interlocked.Increment(ref _forwards);
        var target = new Uri(requestLine[1]);
        using (var upstream = new TcpClient())
        {
            await upstream.ConnectAsync(target.DnsSafeHost, target.Port);
            var u = upstream.GetStream();
            await Write(u, requestLine[0] + " " + target.PathAndQuery + " HTTP/1.1\r\n" + headers + "Connection: close\r\n\r\n");
            await u.WriteAsync(body, 0, body.Length);
            await u.CopyToAsync(s);
        }
    }

    public void Dispose() { _listener.Stop(); }
}
