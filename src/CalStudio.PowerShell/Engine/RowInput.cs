using System;
using CalStudio.Client;

namespace CalStudio.Engine
{
    /// <summary>One input row as the cmdlet bound it, before anything is sent. Built once by the cmdlet.</summary>
    internal sealed class RowInput
    {
        private string _rowKey, _fingerprint;

        /// <param name="rowKey">The journal key from several -KeyProperty columns (<see cref="KeyColumns"/>); null: from <paramref name="keyValue"/>.</param>
        public RowInput(long index, object row, string prompt, string appName, string fileUrl, string keyValue = null, ApiOutcome bindingError = null, string rowKey = null)
        {
            _rowKey = rowKey;
            Index = index;
            Row = row;
            Prompt = prompt;
            AppName = appName;
            FileUrl = string.IsNullOrEmpty(fileUrl) ? null : fileUrl;
            KeyValue = keyValue;
            BindingError = bindingError;
        }

        public long Index { get; }
        /// <summary>1-based, as an admin counts the rows of a CSV.</summary>
        public long Number => Index + 1;
        /// <summary>The pipeline object (a CSV row, a string), kept as TargetObject and for carrying columns along.</summary>
        public object Row { get; }
        public string Prompt { get; }
        public string AppName { get; }
        public string FileUrl { get; }
        /// <summary>The -KeyProperty column's value, when one was named (null when the row has none); several columns' values joined by ", ".</summary>
        public string KeyValue { get; }
        /// <summary>Why binding could not make a prompt of the row (a hashtable, a missing template column); null when it could.</summary>
        public ApiOutcome BindingError { get; }

        /// <summary>The journal key: "key:" and the -KeyProperty value(s), else the fingerprint (computed once).</summary>
        public string RowKey => _rowKey ?? (_rowKey = KeyValue != null ? Journal.JournalEntry.KeyPrefix + KeyValue : Fingerprint);

        /// <summary>What the request is: a journal entry answers this row only when its fingerprint is the same.</summary>
        public string Fingerprint => _fingerprint ?? (_fingerprint = HashKey(AppName, Prompt, FileUrl));

        /// <summary>SHA-256 of the three fields, length-prefixed so fields cannot run together (as the journal stores it).</summary>
        public static string HashKey(string appName, string prompt, string fileUrl) => Journal.JournalFile.Fingerprint(appName, prompt, fileUrl);

        /// <summary>Checks the row before anything is sent; returns null when it may be sent.</summary>
        public ApiOutcome Validate()
        {
            if (BindingError != null) return BindingError;
            if (Prompt == null)
                return Invalid(ErrorIds.InvalidPrompt, "The row has no prompt: give -Prompt or -PromptTemplate, pipe strings, or pipe objects with a Prompt (or Question, Text, Input) property.");
            if (Prompt.Trim().Length == 0)
                return Invalid(ErrorIds.InvalidPrompt, "The prompt is empty or only white space.");
            int lone = LoneSurrogateAt(Prompt);
            if (lone >= 0)
                return Invalid(ErrorIds.InvalidPrompt, "The prompt has a lone UTF-16 surrogate (U+" + ((int)Prompt[lone]).ToString("X4") +
                                                       ") at character " + (lone + 1) + "; it cannot be sent intact as UTF-8.");
            if (string.IsNullOrEmpty(AppName))
                return Invalid(ErrorIds.MissingAppName, "No app name: give -AppName, an AppName (or App) column, or Connect-CalStudio -AppName.");
            foreach (char c in AppName)
                if (char.IsControl(c))
                    return Invalid(ErrorIds.InvalidAppName, "The app name contains a control character (U+" + ((int)c).ToString("X4") + ").");
            if (FileUrl != null && !IsWebUrl(FileUrl))
                return Invalid(ErrorIds.InvalidFileUrl, "FileUrl '" + ResponseParser.Shorten(FileUrl, 120) + "' is not an absolute http or https URL; the API fetches the file itself, so it must be publicly reachable.");
            return null;
        }

        internal static int LoneSurrogateAt(string text)
        {
            for (int i = 0; i < text.Length; i++)
            {
                if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
                if (char.IsSurrogate(text[i])) return i;
            }
            return -1;
        }

        internal static bool IsWebUrl(string text) =>
            Uri.TryCreate(text, UriKind.Absolute, out Uri uri)
            && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            && !uri.IsUnc && !string.IsNullOrEmpty(uri.Host)
            && text.StartsWith(uri.Scheme + "://", StringComparison.OrdinalIgnoreCase);

        internal static ApiOutcome Invalid(string errorId, string message) => ApiOutcome.Failure(errorId, 0, message);
    }
}
