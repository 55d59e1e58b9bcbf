using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using CalStudio.Client;

namespace CalStudio.Journal
{
    /// <summary>The JSON-lines form of a finished row; one line per row, no key, nothing secret.</summary>
    internal static class JournalEntry
    {
        public const string Format = "CalStudio.Journal";
        public const int Version = 1;

        public static string Header(string keyProperty)
        {
            var sb = new StringBuilder("{\"format\":");
            Json.WriteString(sb, Format);
            sb.Append(",\"version\":").Append(Version).Append(",\"keyProperty\":");
            if (keyProperty == null) sb.Append("null"); else Json.WriteString(sb, keyProperty);
            sb.Append(",\"createdAt\":");
            Json.WriteString(sb, DateTimeOffset.Now.ToString("o", CultureInfo.InvariantCulture));
            return sb.Append('}').ToString();
        }

        public static string ToLine(Response r)
        {
            var sb = new StringBuilder(256);
            sb.Append("{\"key\":"); Json.WriteString(sb, r.RowKey);
            sb.Append(",\"success\":").Append(r.Success ? "true" : "false");
            Field(sb, "prompt", r.Prompt);
            Field(sb, "appName", r.AppName);
            Field(sb, "fileUrl", r.FileUrl);
            Field(sb, "message", r.Message);
            sb.Append(",\"statusCode\":").Append(r.StatusCode.ToString(CultureInfo.InvariantCulture));
            Field(sb, "requestId", r.RequestId);
            sb.Append(",\"attempts\":").Append(r.Attempts.ToString(CultureInfo.InvariantCulture));
            sb.Append(",\"durationMs\":").Append(((long)r.Duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
            Field(sb, "completedAt", r.CompletedAt.ToString("o", CultureInfo.InvariantCulture));
            Field(sb, "errorId", r.ErrorId);
            Field(sb, "errorMessage", r.ErrorMessage);
            return sb.Append('}').ToString();
        }

        /// <summary>Null when the line is not a complete entry (a torn last line, say).</summary>
        public static Response FromLine(string line)
        {
            if (!Json.TryParse(line, out object parsed) || !(parsed is Dictionary<string, object> o)) return null;
            if (!(Get(o, "key") is string key) || !(o.TryGetValue("success", out object s) && s is bool success)) return null;
            DateTimeOffset.TryParse(Get(o, "completedAt") as string, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out DateTimeOffset completedAt);
            return new Response
            {
                RowKey = key,
                Success = success,
                Prompt = Get(o, "prompt") as string,
                AppName = Get(o, "appName") as string,
                FileUrl = Get(o, "fileUrl") as string,
                Message = Get(o, "message") as string,
                StatusCode = Get(o, "statusCode") is double sc ? (int)sc : 0,
                RequestId = Get(o, "requestId") as string,
                Attempts = Get(o, "attempts") is double a ? (int)a : 0,
                Duration = Get(o, "durationMs") is double ms ? TimeSpan.FromMilliseconds(ms) : TimeSpan.Zero,
                CompletedAt = completedAt,
                ErrorId = Get(o, "errorId") as string,
                ErrorMessage = Get(o, "errorMessage") as string,
                FromJournal = true,
            };
        }

        public static bool TryReadHeader(string line, out string keyProperty)
        {
            keyProperty = null;
            if (!Json.TryParse(line, out object parsed) || !(parsed is Dictionary<string, object> o)) return false;
            if (!(Get(o, "format") is string f) || f != Format) return false;
            keyProperty = Get(o, "keyProperty") as string;
            return true;
        }

        private static object Get(Dictionary<string, object> o, string name) => o.TryGetValue(name, out object v) ? v : null;

        private static void Field(StringBuilder sb, string name, string value)
        {
            if (value == null) return;
            sb.Append(",\"").Append(name).Append("\":");
            Json.WriteString(sb, value);
        }
    }
}
