using System.Buffers;
using System.Text;
using System.Text.Json;

namespace CalStudio.Emulator.Api;

/// <summary>Writes the emulator's answers: result and error JSON, proxy HTML pages, raw text and a streamed big body.</summary>
internal static class Responses
{
    public const string JsonType = "application/json; charset=utf-8";
    private const string HtmlType = "text/html; charset=utf-8";
    private const string Html502Body =
        "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>";
    private const string Html503Body =
        "<html><head><title>503 Service Temporarily Unavailable</title></head><body><h1>503 Service Temporarily Unavailable</h1></body></html>";
    private const string UnsuccessfulMessage = "The app could not process this prompt.";

    /// <summary>A 502 page as a gateway in front of the API sends it.</summary>
    public static Task Html502Async(Exchange x) => TextAsync(x, 502, HtmlType, Html502Body);

    /// <summary>A 503 page as a proxy's limiter or overload guard sends it.</summary>
    public static Task Html503Async(Exchange x) => TextAsync(x, 503, HtmlType, Html503Body);

    /// <summary>The app's "could not process" answer: success:false with this status in the body, HTTP 200.</summary>
    public static Task UnsuccessfulAsync(Exchange x, int status) => ResultAsync(x, UnsuccessfulMessage, status, false);

    public static Task ResultAsync(Exchange x, string message, int status, bool success)
    {
        x.Succeeded = success && status == 200;
        return BytesAsync(x, 200, JsonType, ResultJson(message, status, success));
    }

    public static Task ErrorAsync(Exchange x, ApiError e) => ErrorAsync(x, e.Status, e.Code, e.Message);

    public static Task ErrorAsync(Exchange x, int status, string code, string message)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, Stats.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteString("code", code);
            w.WriteString("message", message);
            w.WriteString("request_id", x.Id);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return BytesAsync(x, status, JsonType, buffer.WrittenMemory);
    }

    public static Task TextAsync(Exchange x, int status, string? contentType, string text) =>
        BytesAsync(x, status, contentType, Encoding.UTF8.GetBytes(text));

    /// <summary>A valid success body whose message is <paramref name="bytes"/> of 'a', streamed in 64 KB chunks.</summary>
    public static async Task BigAsync(Exchange x, long bytes)
    {
        byte[] head = "{\"message\":\""u8.ToArray();
        byte[] tail = "\",\"status\":200,\"success\":true}"u8.ToArray();
        byte[] chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)'a');

        var r = x.Ctx.Response;
        var ct = x.Ctx.RequestAborted;
        x.Status = 200;
        r.StatusCode = 200;
        r.ContentType = JsonType;
        r.ContentLength = head.Length + bytes + tail.Length;
        await r.Body.WriteAsync(head, ct);
        for (long left = bytes; left > 0; left -= chunk.Length)
        {
            await r.Body.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, left)), ct);
        }
        await r.Body.WriteAsync(tail, ct);
        x.Succeeded = true;
    }

    public static byte[] ResultJson(string message, int status, bool success)
    {
        var buffer = new ArrayBufferWriter<byte>(message.Length + 64);
        using (var w = new Utf8JsonWriter(buffer, Stats.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("message", message);
            w.WriteNumber("status", status);
            w.WriteBoolean("success", success);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static async Task BytesAsync(Exchange x, int status, string? contentType, ReadOnlyMemory<byte> body)
    {
        x.Status = status;
        var r = x.Ctx.Response;
        r.StatusCode = status;
        if (status is 204 or 205 or 304) return; // these statuses cannot carry a body
        if (contentType != null) r.ContentType = contentType;
        r.ContentLength = body.Length;
        if (body.Length > 0) await r.Body.WriteAsync(body, x.Ctx.RequestAborted);
    }
}
