using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace CalStudio.Emulator;

/// <summary>
/// --json-app NAME: that app answers a helpdesk classification as JSON, derived deterministically from the prompt
/// ({"category","priority","summary","due","tags"}), so an admin can dry-run a -ResponseFormat Json script offline.
/// The answer comes in one of these forms, chosen by a hash of the prompt, or by a "[json:FORM]" tag in it:
/// whole, fenced (```json), fenced-plain (```), prose (the object inside sentences), invalid (single-quoted, not
/// JSON), nojson (no object at all), offschema (category 'Printers', priority 7) and stubborn (off-schema, every
/// time). A re-ask (a prompt that starts as the module's re-ask does) gets the valid whole object, except for stubborn.
/// </summary>
public static class JsonAnswers
{
    /// <summary>How the module's re-ask starts (CalStudio.Answers.ReaskPrompt.Opening).</summary>
    public const string ReaskOpening = "Your previous answer could not be used as JSON.";
    private const string RequestStart = "The request was:\n<<<\n";
    private const string RequestEnd = "\n>>>\n\nYour previous answer was:";

    public static readonly string[] Forms = ["whole", "fenced", "fenced-plain", "prose", "invalid", "nojson", "offschema", "stubborn"];
    private static readonly string[] Categories = ["Hardware", "Software", "Access"];
    private static readonly JsonWriterOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Answer(string prompt)
    {
        if (prompt.StartsWith(ReaskOpening, StringComparison.Ordinal))
        {
            string original = OriginalOf(prompt);
            return FormOf(original) == "stubborn" ? Object(original, offSchema: true) : Object(original, offSchema: false);
        }
        string json = Object(prompt, offSchema: false);
        return FormOf(prompt) switch
        {
            "fenced" => "Here is the classification:\n```json\n" + json + "\n```\nLet me know if you need more.",
            "fenced-plain" => "```\n" + json + "\n```",
            "prose" => "Sure. Having read the ticket, my answer is " + json + " and I hope that helps.",
            "invalid" => json.Replace('"', '\''),
            "nojson" => "This looks like a " + Category(prompt) + " issue of priority " + Priority(prompt) + ".",
            "offschema" or "stubborn" => Object(prompt, offSchema: true),
            _ => json,
        };
    }

    /// <summary>The tagged form, else one by hash: about 40% whole, 15% fenced, 15% prose, 10% invalid or no JSON, 15% off-schema, 5% stubborn.</summary>
    public static string FormOf(string prompt)
    {
        int tag = prompt.IndexOf("[json:", StringComparison.Ordinal);
        if (tag >= 0)
        {
            int end = prompt.IndexOf(']', tag);
            string form = end > tag ? prompt[(tag + 6)..end] : "";
            if (Forms.Contains(form)) return form;
        }
        return (Hash(prompt) % 20) switch
        {
            < 8 => "whole",
            < 10 => "fenced",
            10 => "fenced-plain",
            < 14 => "prose",
            < 16 => "invalid",
            16 => "nojson",
            < 19 => "offschema",
            _ => "stubborn",
        };
    }

    private static string OriginalOf(string reask)
    {
        int start = reask.IndexOf(RequestStart, StringComparison.Ordinal);
        int end = start < 0 ? -1 : reask.LastIndexOf(RequestEnd, StringComparison.Ordinal);
        return start >= 0 && end > start ? reask[(start + RequestStart.Length)..end] : reask;
    }

    private static string Object(string prompt, bool offSchema)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, Relaxed))
        {
            string category = offSchema ? "Printers" : Category(prompt);
            w.WriteStartObject();
            w.WriteString("category", category);
            w.WriteNumber("priority", offSchema ? 7 : Priority(prompt));
            w.WriteString("summary", Summary(prompt));
            w.WriteString("due", "2026-01-" + (1 + Hash(prompt) % 28).ToString("00", CultureInfo.InvariantCulture));
            w.WriteStartArray("tags");
            w.WriteStringValue("helpdesk");
            w.WriteStringValue(category.ToLowerInvariant());
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A word in the prompt decides, as a model would; otherwise the hash.</summary>
    private static string Category(string prompt)
    {
        string p = prompt.ToLowerInvariant();
        if (p.Contains("password") || p.Contains("login") || p.Contains("access")) return "Access";
        if (p.Contains("printer") || p.Contains("laptop") || p.Contains("screen")) return "Hardware";
        if (p.Contains("install") || p.Contains("crash") || p.Contains("excel")) return "Software";
        return Categories[(int)(Hash(prompt) / 20 % 3)];
    }

    private static int Priority(string prompt) => 1 + (int)(Hash(prompt) / 60 % 5);

    /// <summary>The prompt's last 40 text elements (the ticket usually ends it), whitespace collapsed.</summary>
    private static string Summary(string prompt)
    {
        string flat = string.Join(' ', prompt.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        var elements = StringInfo.ParseCombiningCharacters(flat);
        return elements.Length <= 40 ? flat : flat[elements[^40]..];
    }

    /// <summary>FNV-1a over the UTF-16 code units: the same prompt always gets the same answer.</summary>
    private static ulong Hash(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in s) { h ^= c; h *= 1099511628211UL; }
        return h;
    }
}
