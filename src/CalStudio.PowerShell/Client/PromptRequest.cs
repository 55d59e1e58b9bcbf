using System;
using System.Text;

namespace CalStudio.Client
{
    /// <summary>One prompt to send: the three fields of the documented body besides the key.</summary>
    public sealed class PromptRequest
    {
        public PromptRequest(string prompt, string appName, string fileUrl)
        {
            Prompt = prompt;
            AppName = appName;
            FileUrl = string.IsNullOrEmpty(fileUrl) ? null : fileUrl;
        }

        public string Prompt { get; }
        public string AppName { get; }
        public string FileUrl { get; }

        /// <summary>
        /// The documented body: {"prompt","apiKey","appName"[,"fileUrl"]}, UTF-8. fileUrl is left out when absent.
        /// The returned array holds the key; the caller clears it once it is sent.
        /// </summary>
        internal byte[] ToBody(ApiKey key)
        {
            var head = new StringBuilder("{\"prompt\":");
            Json.WriteString(head, Prompt);
            head.Append(",\"apiKey\":\"");
            var tail = new StringBuilder("\",\"appName\":");
            Json.WriteString(tail, AppName);
            if (FileUrl != null)
            {
                tail.Append(",\"fileUrl\":");
                Json.WriteString(tail, FileUrl);
            }
            tail.Append('}');

            byte[] headBytes = Encoding.UTF8.GetBytes(head.ToString());
            byte[] tailBytes = Encoding.UTF8.GetBytes(tail.ToString());
            byte[] keyBytes = key.ToJsonEscapedUtf8();
            try
            {
                var body = new byte[headBytes.Length + keyBytes.Length + tailBytes.Length];
                Buffer.BlockCopy(headBytes, 0, body, 0, headBytes.Length);
                Buffer.BlockCopy(keyBytes, 0, body, headBytes.Length, keyBytes.Length);
                Buffer.BlockCopy(tailBytes, 0, body, headBytes.Length + keyBytes.Length, tailBytes.Length);
                return body;
            }
            finally { Array.Clear(keyBytes, 0, keyBytes.Length); }
        }
    }
}
