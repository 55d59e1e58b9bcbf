using System.Text.Json;

namespace CalStudio.Emulator.Api;

/// <summary>An error answer: HTTP status, error code and message.</summary>
internal readonly record struct ApiError(int Status, string Code, string Message);

/// <summary>
/// The fields of a /getbackResponse body. Strings are copied out so the JSON document is released at once.
/// </summary>
internal sealed class ApiRequest
{
    public string? Prompt { get; private init; }
    public string? ApiKey { get; private init; }
    public string? AppName { get; private init; }
    public string? FileUrl { get; private init; }
    private bool _fileUrlBad;

    /// <summary>Null when the body is not a JSON object.</summary>
    public static ApiRequest? Parse(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            string? fileUrl = null;
            bool fileUrlBad = false;
            if (root.TryGetProperty("fileUrl", out var f) && f.ValueKind != JsonValueKind.Null)
            {
                if (f.ValueKind == JsonValueKind.String) fileUrl = f.GetString();
                else fileUrlBad = true;
            }
            return new ApiRequest
            {
                Prompt = StringProperty(root, "prompt"),
                ApiKey = StringProperty(root, "apiKey"),
                AppName = StringProperty(root, "appName"),
                FileUrl = fileUrl,
                _fileUrlBad = fileUrlBad,
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string with lone surrogate escapes cannot become a .NET string.
            return null;
        }
    }

    /// <summary>The first problem with the fields and app (checked after the key and rate limits), or null.</summary>
    public ApiError? FieldError(HashSet<string>? apps)
    {
        if (string.IsNullOrEmpty(Prompt)) return new(400, "missing_prompt", "The prompt is missing or empty.");
        if (string.IsNullOrEmpty(AppName)) return new(400, "missing_app_name", "The appName is missing or empty.");
        if (_fileUrlBad || (FileUrl != null && !IsHttpUrl(FileUrl)))
            return new(400, "invalid_file_url", "The fileUrl must be an absolute http or https URL.");
        if (apps != null && !apps.Contains(AppName)) return new(404, "app_not_found", $"No app named '{AppName}'.");
        return null;
    }

    private static string? StringProperty(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool IsHttpUrl(string s) =>
        Uri.TryCreate(s, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps);
}
