namespace CalStudio.Emulator.Api;

/// <summary>
/// Outcomes without a normal response (a dropped connection, a hang, a body cut in half) and delays; each gives way
/// to the client going away and to emulator shutdown.
/// </summary>
internal sealed class Interruptions(CancellationToken stopping)
{
    public static void Drop(Exchange x)
    {
        x.Other = "dropped";
        x.Ctx.Abort();
    }

    /// <summary>Never answers. Recorded up front so stats show the hang while it is in progress.</summary>
    public async Task HangAsync(Exchange x)
    {
        x.Other = "hung";
        x.Record();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(x.Ctx.RequestAborted, stopping);
        try
        {
            await Task.Delay(Timeout.Infinite, cts.Token);
        }
        catch (OperationCanceledException)
        {
            // Expected: the client gave up or the emulator is stopping.
        }
        x.Ctx.Abort(); // still never answer, and do not hold up shutdown
    }

    /// <summary>Status 200, headers and half a JSON body, then the connection dies.</summary>
    public static async Task DropMidBodyAsync(Exchange x, string message)
    {
        byte[] full = Responses.ResultJson(message, 200, true);
        var r = x.Ctx.Response;
        r.StatusCode = 200;
        r.ContentType = Responses.JsonType;
        r.ContentLength = full.Length;
        await r.Body.WriteAsync(full.AsMemory(0, full.Length / 2), x.Ctx.RequestAborted);
        await r.Body.FlushAsync(x.Ctx.RequestAborted);
        x.Other = "dropped";
        x.Ctx.Abort();
    }

    public async Task DelayAsync(Exchange x, int ms)
    {
        // Honors both the client going away and emulator shutdown (which would otherwise wait for the delay).
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(x.Ctx.RequestAborted, stopping);
        await Task.Delay(ms, cts.Token);
    }
}
