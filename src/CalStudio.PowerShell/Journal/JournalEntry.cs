using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using CalStudio.Client;

namespace CalStudio.Journal
{
    /// <summary>The JSON-lines form of a finished row; one line per row, nothing secret.</summary>
    internal static class JournalEntry
    {
        public const string Format = "CalStudio.Journal";
        public const int Version = 1;

        /// <summary>How every header starts; a file holding only a prefix of it is a header torn while being created.</summary>
        public static readonly string HeaderStart = "{\"format\":\"" + Format + "\",";

        // Bounds beyond which a number is damage, not data (1e300 would otherwise overflow an int or a TimeSpan).
        private const int MaxStatusCode = 999;
        private const double MaxRowNumber = 9007199254740991; // 2^53 - 1: the largest whole number a JSON double holds exactly
        private static readonly double MaxDurationMs = TimeSpan.FromDays(3650).TotalMilliseconds;

        public static string Header(string keyProperty)
        {
            var sb = new StringBuilder(HeaderStart);
            sb.Append("\"version\":").Append(Version).Append(",\"keyProperty\":");
            if (keyProperty == null) sb.Append("null"); else Json.WriteString(sb, keyProperty);
            sb.Append(",\"createdAt\":");
            Json.WriteString(sb, DateTimeOffset.Now.ToString("o", CultureInfo.InvariantCulture));
            return sb.Append('}').ToString();
        }

        public static string ToLine(Response r, string fingerprint)
        {
            var sb = new StringBuilder(256);
            sb.Append("{\"key\":"); Json.WriteString(sb, r.RowKey);
            sb.Append(",\"success\":").Append(r.Success ? "true" : "false");
            // The row as the run that wrote it saw it, so a report names rows as the admin's input does.
            Field(sb, "keyValue", r.Key);
            if (r.RowNumber > 0) sb.Append(",\"rowNumber\":").Append(r.RowNumber.ToString(CultureInfo.InvariantCulture));
            Field(sb, "fp", fingerprint);
            Field(sb, "prompt", r.Prompt);
            Field(sb, "appName", r.AppName);
            Field(sb, "fileUrl", r.FileUrl);
            Field(sb, "message", r.Message);
            sb.Append(",\"statusCode\":").Append(r.StatusCode.ToString(CultureInfo.InvariantCulture));
            Field(sb, "requestId", r.RequestId);
            sb.Append(",\"attempts\":").Append(r.Attempts.ToString(CultureInfo.InvariantCulture));
            sb.Append(",\"durationMs\":").Append(((long)Math.Round(r.Duration * 1000)).ToString(CultureInfo.InvariantCulture));
            Field(sb, "completedAt", r.CompletedAt.ToString("o", CultureInfo.InvariantCulture));
            Field(sb, "errorId", r.ErrorId);
            Field(sb, "errorMessage", r.ErrorMessage);
            Field(sb, "schema", r.AnswerSchema); // -ResponseFormat Json: which schema judged the answer
            if (r.Reasks > 0) sb.Append(",\"reasks\":").Append(r.Reasks.ToString(CultureInfo.InvariantCulture));
            return sb.Append('}').ToString();
        }

        /// <summary>
        /// False when the line is not a whole, well-typed entry: bad JSON, a torn line, a wrong type, a number out of range.
        /// Never throws. The fingerprint is the stored one, or (lines written before it was stored) computed from the entry.
        /// </summary>
        [MethodImpl(FlatJsonObject.Hot)]
        public static bool TryParse(string line, out Response response, out RequestFingerprint.Packed fingerprint)
        {
            response = null;
            fingerprint = default(RequestFingerprint.Packed);
            try
            {
                var members = FlatJsonObject.TryParse(line);
                if (members == null) return false;
                var r = new Response { FromJournal = true };
                string fp = null, completedAt = null;
                bool? success = null;
                foreach (var m in members)
                {
                    object v = m.Value;
                    bool ok;
                    switch (m.Key)
                    {
                        case "key": ok = v is string; r.RowKey = v as string; break;
                        case "success": ok = v is bool; success = v as bool?; break;
                        case "keyValue": ok = TryText(v, out string keyValue); r.Key = keyValue; break;
                        case "rowNumber": ok = TryWhole(v, MaxRowNumber, out double rowNumber); r.RowNumber = (long)rowNumber; break;
                        case "fp": ok = TryText(v, out fp); break;
                        case "prompt": ok = TryText(v, out string prompt); r.Prompt = prompt; break;
                        case "appName": ok = TryText(v, out string appName); r.AppName = appName; break;
                        case "fileUrl": ok = TryText(v, out string fileUrl); r.FileUrl = fileUrl; break;
                        case "message": ok = TryText(v, out string message); r.Message = message; break;
                        case "requestId": ok = TryText(v, out string requestId); r.RequestId = requestId; break;
                        case "errorId": ok = TryText(v, out string errorId); r.ErrorId = errorId; break;
                        case "errorMessage": ok = TryText(v, out string errorMessage); r.ErrorMessage = errorMessage; break;
                        case "completedAt": ok = TryText(v, out completedAt); break;
                        case "statusCode": ok = TryWhole(v, MaxStatusCode, out double statusCode); r.StatusCode = (int)statusCode; break;
                        case "attempts": ok = TryWhole(v, int.MaxValue, out double attempts); r.Attempts = (int)attempts; break;
                        case "durationMs": ok = TryWhole(v, MaxDurationMs, out double ms); r.Duration = ms / 1000; break;
                        case "schema": ok = TryText(v, out string schema); r.AnswerSchema = schema; break;
                        case "reasks": ok = TryWhole(v, int.MaxValue, out double reasks); r.Reasks = (int)reasks; break;
                        default: ok = true; break; // a field a later version added
                    }
                    if (!ok) return false;
                }
                if (r.RowKey == null || success == null) return false;
                if (r.Key == null) r.Key = KeyValueOf(r.RowKey); // a line written before the key's value was stored
                r.Success = success.Value;
                if (completedAt != null)
                {
                    if (!TryParseTime(completedAt, out DateTimeOffset time)) return false;
                    r.CompletedAt = time;
                }
                if (!RequestFingerprint.TryPack(fp ?? RequestFingerprint.Of(r.AppName, r.Prompt, r.FileUrl), out fingerprint)) return false;
                response = r;
                return true;
            }
            catch (Exception ex) when (ex is FormatException || ex is OverflowException || ex is ArgumentException)
            {
                return false; // belt and braces: no line, however damaged, may stop a run
            }
        }

        /// <summary>
        /// The -KeyProperty value in a row key ("key:" and the value); null for a row keyed by its fingerprint. Only
        /// single-column journals predate the stored value, so the prefix alone is the whole encoding.
        /// </summary>
        private static string KeyValueOf(string rowKey) =>
            rowKey.StartsWith(KeyPrefix, StringComparison.Ordinal) ? rowKey.Substring(KeyPrefix.Length) : null;

        /// <summary>How a -KeyProperty row key starts (without one, a row is keyed by its fingerprint, "sha256:...").</summary>
        public const string KeyPrefix = "key:";

        /// <summary>The round-trip form this module writes, parsed exactly (fast); anything else a reader of dates accepts.</summary>
        private static bool TryParseTime(string text, out DateTimeOffset value) =>
            DateTimeOffset.TryParseExact(text, "o", CultureInfo.InvariantCulture, DateTimeStyles.None, out value)
            || DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out value);

        public static bool TryReadHeader(string line, out string keyProperty)
        {
            keyProperty = null;
            if (!Json.TryParse(line, out object parsed) || !(parsed is Dictionary<string, object> o)) return false;
            if (!(Get(o, "format") is string f) || f != Format) return false;
            keyProperty = Get(o, "keyProperty") as string;
            return true;
        }

        /// <summary>A file's whole content that is the start of a header: the creating run died before the newline.</summary>
        public static bool IsTornHeader(string content) =>
            content.Length > 0 && (HeaderStart.StartsWith(content, StringComparison.Ordinal) || content.StartsWith(HeaderStart, StringComparison.Ordinal));

        private static object Get(Dictionary<string, object> o, string name) => o.TryGetValue(name, out object v) ? v : null;

        /// <summary>Null is fine; anything but a string is damage.</summary>
        private static bool TryText(object v, out string value)
        {
            value = v as string;
            return v == null || value != null;
        }

        /// <summary>Null is 0; otherwise a whole number from 0 to max.</summary>
        private static bool TryWhole(object v, double max, out double value)
        {
            value = 0;
            if (v == null) return true;
            if (!(v is double d) || d < 0 || d > max || Math.Floor(d) != d) return false;
            value = d;
            return true;
        }

        private static void Field(StringBuilder sb, string name, string value)
        {
            if (value == null) return;
            sb.Append(",\"").Append(name).Append("\":");
            Json.WriteString(sb, value);
        }
    }
}
