using System.Collections.Generic;
using System.Text;

namespace CalStudio.Answers
{
    /// <summary>
    /// The prompt of a re-ask: the original request, the previous answer (shortened), what was wrong with it in plain
    /// words, and a request for the JSON object alone. The app sees no history, so the re-ask carries all of it.
    /// </summary>
    internal static class ReaskPrompt
    {
        /// <summary>How every re-ask starts (the emulator recognises a re-ask by it).</summary>
        public const string Opening = "Your previous answer could not be used as JSON.";
        public const int MaxPreviousChars = 600;

        public static string Build(string originalPrompt, string previousAnswer, IReadOnlyList<string> errors)
        {
            var sb = new StringBuilder(originalPrompt.Length + MaxPreviousChars + 256);
            sb.Append(Opening).Append(" What was wrong: ").Append(string.Join("; ", errors)).Append(".\n\n");
            sb.Append("The request was:\n<<<\n").Append(originalPrompt).Append("\n>>>\n\n");
            sb.Append("Your previous answer was:\n<<<\n").Append(Shorten(previousAnswer ?? "", MaxPreviousChars)).Append("\n>>>\n\n");
            sb.Append("Answer the request again with the JSON object alone: no other text, no code fence.");
            return sb.ToString();
        }

        /// <summary>The first <paramref name="max"/> characters and an ellipsis; never half of a surrogate pair (it could not be sent as UTF-8).</summary>
        internal static string Shorten(string text, int max)
        {
            if (text.Length <= max) return text;
            int cut = char.IsHighSurrogate(text[max - 1]) ? max - 1 : max;
            return text.Substring(0, cut) + "…";
        }
    }
}
