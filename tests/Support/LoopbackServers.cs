// Loopback test servers shared by the Pester suites (Add-Type -Path): a canned/hostile HTTP server (the proxy is TestProxy.cs).
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

/// <summary>A loopback-only TCP server for tests: accepts connections and serves each on the thread pool.</summary>
public abstract class CalStudioLoopbackServer : IDisposable
{
    private readonly TcpListener _listener;
    public int Port { get; private set; }

    protected CalStudioLoopbackServer()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        Task.Run(AcceptLoop);
    }

    private async Task AcceptLoop()
    {
        while (true)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(); } catch { return; }
            var ignored = Task.Run(() => Serve(client));
        }
    }

    protected abstract Task Serve(TcpClient client);

    public void Dispose() { _listener.Stop(); }
}

// Answers every request with the same raw bytes, or with a chunked JSON body of ChunkedBytes bytes and no
// Content-Length (so the client cannot refuse it up front from the declared size).
public sealed class CalStudioHostileTestServer : CalStudioLoopbackServer
{
    private readonly byte[] _raw;
    private readonly long _chunkedBytes;
    private int _requests;
    private long _bytesSent;
    public int Requests { get { return Volatile.Read(ref _requests); } }
    public long BytesSent { get { return Interlocked.Read(ref _bytesSent); } }

    public CalStudioHostileTestServer(string raw, long chunkedBytes)
    {
        _raw = raw == null ? null : Encoding.UTF8.GetBytes(raw);
        _chunkedBytes = chunkedBytes;
    }

    protected override async Task Serve(TcpClient client)
    {
        try
        {
            using (client)
            {
                var s = client.GetStream();
                var head = new List<byte>();
                var one = new byte[1];
                while (head.Count < 4 || head[head.Count - 4] != 13 || head[head.Count - 3] != 10 || head[head.Count - 2] != 13 || head[head.Count - 1] != 10)
                {
                    if (await s.ReadAsync(one, 0, 1) == 0) return;
                    head.Add(one[0]);
                }
                int length = 0;
                foreach (string line in Encoding.ASCII.GetString(head.ToArray()).Split(new[] { "\r\n" }, StringSplitOptions.RemoveEmptyEntries))
                    if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line.Substring(15).Trim());
                var body = new byte[length];
                for (int read = 0; read < length;) { int n = await s.ReadAsync(body, read, length - read); if (n == 0) return; read += n; }
                Interlocked.Increment(ref _requests);

                if (_raw != null)
                {
                    await s.WriteAsync(_raw, 0, _raw.Length);
                    Interlocked.Add(ref _bytesSent, _raw.Length);
                    return;
                }
                byte[] h = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
                await s.WriteAsync(h, 0, h.Length);
                await WriteChunk(s, Encoding.ASCII.GetBytes("{\"message\":\""), 0);
                var chunk = new byte[64 * 1024];
                for (int i = 0; i < chunk.Length; i++) chunk[i] = (byte)'a';
                for (long left = _chunkedBytes; left > 0; left -= chunk.Length)
                    await WriteChunk(s, chunk, (int)Math.Min(chunk.Length, left));
                await WriteChunk(s, Encoding.ASCII.GetBytes("\",\"status\":200,\"success\":true}"), 0);
                byte[] end = Encoding.ASCII.GetBytes("0\r\n\r\n");
                await s.WriteAsync(end, 0, end.Length);
            }
        }
        catch (Exception) { } // the client hung up: expected when it refuses the answer
    }

    private async Task WriteChunk(Stream s, byte[] data, int count)
    {
        if (count == 0) count = data.Length;
        byte[] size = Encoding.ASCII.GetBytes(count.ToString("x") + "\r\n");
        await s.WriteAsync(size, 0, size.Length);
        await s.WriteAsync(data, 0, count);
        await s.WriteAsync(new byte[] { 13, 10 }, 0, 2);
        Interlocked.Add(ref _bytesSent, count);
    }

}
