using System;
using System.Security.Cryptography;
using System.Text;
using CalStudio.Client;

namespace CalStudio.Engine
{
    /// <summary>One input row as the cmdlet bound it, before anything is sent.</summary>
    internal sealed class RowInput
    {
        public long Index { get; set; }
        /// <summary>The pipeline object (a CSV row, a string), kept as TargetObject and for carrying columns along.</summary>
        public object Row { get; set; }
        public string Prompt { get; set; }
        public string AppName { get; set; }
        public string FileUrl { get; set; }
        /// <summary>The -KeyProperty column's value, when one was named.</summary>
        public string KeyValue { get; set; }
        /// <summary>Why -PromptTemplate could not be filled from this row (it names the missing column); null otherwise.</summary>
        public string PromptError { get; set; }

        private string _rowKey;

        /// <summary>The journal key: "key:" and the -KeyProperty value, else a hash of AppName, Prompt and FileUrl (computed once).</summary>
        public string RowKey => _rowKey ?? (_rowKey = KeyValue ?? HashKey(AppName, Prompt, FileUrl));

        /// <summary>A stable key for rows with no key column: SHA-256 of the three fields, length-prefixed so fields cannot run together.</summary>
        public static string HashKey(string appName, string prompt, string fileUrl)
        {
            var sb = new StringBuilder();
            foreach (var part in new[] { appName ?? "", prompt ?? "", fileUrl ?? "" })
                sb.Append(part.Length).Append(':').Append(part).Append('|');
            using (var sha = SHA256.Create())
            {
                var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(sb.ToString()));
                var hex = new StringBuilder("sha256:");
                for (int i = 0; i < 16; i++) hex.Append(hash[i].ToString("x2"));
                return hex.ToString();
            }
        }

        /// <summary>Checks the row before anything is sent; returns null when it may be sent.</summary>
        public ApiOutcome Validate()
        {
            if (PromptError != null) return Invalid(ErrorIds.InvalidPrompt, PromptError);
            if (Prompt == null)
                return Invalid(ErrorIds.InvalidPrompt, "The row has no prompt: give -Prompt, pipe strings, or pipe objects with a Prompt (or Question, Text, Input) property.");
            if (Prompt.Trim().Length == 0)
                return Invalid(ErrorIds.InvalidPrompt, "The prompt is empty or only white space.");
            if (string.IsNullOrEmpty(AppName))
                return Invalid(ErrorIds.MissingAppName, "No app name: give -AppName, an AppName (or App) column, or Connect-CalStudio -AppName.");
            foreach (char c in AppName)
                if (char.IsControl(c))
                    return Invalid(ErrorIds.InvalidAppName, "The app name contains a control character (U+" + ((int)c).ToString("X4") + ").");
            if (FileUrl != null && !IsWebUrl(FileUrl))
                return Invalid(ErrorIds.InvalidFileUrl, "FileUrl '" + ResponseParser.Shorten(FileUrl, 120) + "' is not an absolute http or https URL; the API fetches the file itself, so it must be publicly reachable.");
            return null;
        }

        internal static bool IsWebUrl(string text) =>
            Uri.TryCreate(text, UriKind.Absolute, out Uri uri)
            && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            && !uri.IsUnc && !string.IsNullOrEmpty(uri.Host)
            && text.StartsWith(uri.Scheme + "://", StringComparison.OrdinalIgnoreCase);

        private static ApiOutcome Invalid(string errorId, string message) =>
            ApiOutcome.Failure(OutcomeKind.Permanent, errorId, 0, message);
    }
}
