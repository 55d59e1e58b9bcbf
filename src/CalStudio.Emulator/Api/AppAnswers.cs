namespace CalStudio.Emulator.Api;

/// <summary>
/// What an app answers to an accepted prompt: an echo of it (with the file named), or for a --json-app (or
/// --json-app *) a JSON classification from <see cref="JsonAnswers"/>.
/// </summary>
internal sealed class AppAnswers(IEnumerable<string> jsonApps)
{
    private readonly HashSet<string> _jsonApps = new(jsonApps, StringComparer.Ordinal);

    public string For(string appName, string prompt, string? fileUrl)
    {
        if (_jsonApps.Contains(appName) || _jsonApps.Contains("*")) return JsonAnswers.Answer(prompt);
        return fileUrl is null
            ? $"{appName} answers: {prompt}"
            : $"{appName} answers: {prompt} [file: {fileUrl}]";
    }
}
