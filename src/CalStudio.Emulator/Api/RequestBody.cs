namespace CalStudio.Emulator.Api;

/// <summary>Reads a request body whole, or says it is over the size limit without reading it.</summary>
internal static class RequestBody
{
    public const long MaxBytes = 8L * 1024 * 1024;

    public static async Task<(byte[] Body, bool TooLarge)> ReadAsync(HttpRequest req, CancellationToken ct)
    {
        try
        {
            if (req.ContentLength is long length)
            {
                if (length > MaxBytes) return ([], true);
                var buffer = new byte[length];
                await req.Body.ReadExactlyAsync(buffer, ct);
                return (buffer, false);
            }
            using var ms = new MemoryStream();
            await req.Body.CopyToAsync(ms, ct);
            return (ms.ToArray(), false);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // Chunked body over Kestrel's MaxRequestBodySize.
            return ([], true);
        }
    }
}
