using System;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;

namespace CalStudio.Client
{
    /// <summary>
    /// Holds the key as a SecureString and lets it out as plain text only into one request body.
    /// Uses SecureStringToGlobalAllocUnicode, not PtrToStringAuto, which returns one character on Linux (PowerShell #12114).
    /// </summary>
    public sealed class ApiKey : IDisposable
    {
        private readonly SecureString _secret;

        public ApiKey(SecureString secret)
        {
            if (secret == null || secret.Length == 0) throw new ArgumentException("The API key is empty.", nameof(secret));
            _secret = secret.Copy();
            _secret.MakeReadOnly();
            Hint = ComputeHint();
        }

        /// <summary>The last four characters, for telling keys apart in Get-CalStudioConnection.</summary>
        public string Hint { get; }

        /// <summary>Writes the UTF-8 of the JSON-escaped key into a new array; the caller clears it after use.</summary>
        internal byte[] ToJsonEscapedUtf8()
        {
            char[] chars = null, escaped = null;
            try
            {
                chars = ReadChars();
                // Escaped by hand into a char array we can clear: a managed string of the key would linger until GC.
                escaped = new char[chars.Length * 6];
                int n = 0;
                foreach (char c in chars)
                {
                    if (c == '"' || c == '\\') { escaped[n++] = '\\'; escaped[n++] = c; }
                    else if (c < 0x20)
                    {
                        const string hex = "0123456789abcdef";
                        escaped[n++] = '\\'; escaped[n++] = 'u'; escaped[n++] = '0'; escaped[n++] = '0';
                        escaped[n++] = hex[c >> 4]; escaped[n++] = hex[c & 0xf];
                    }
                    else escaped[n++] = c;
                }
                return Encoding.UTF8.GetBytes(escaped, 0, n);
            }
            finally
            {
                if (chars != null) Array.Clear(chars, 0, chars.Length);
                if (escaped != null) Array.Clear(escaped, 0, escaped.Length);
            }
        }

        /// <summary>A stable, non-reversible name for this key at one service: SHA-256 of both, used to name the shared budget file.</summary>
        internal string Fingerprint(string service)
        {
            char[] chars = ReadChars();
            byte[] prefix = Encoding.UTF8.GetBytes(service + "\n");
            byte[] keyBytes = Encoding.UTF8.GetBytes(chars);
            byte[] bytes = new byte[prefix.Length + keyBytes.Length];
            Buffer.BlockCopy(prefix, 0, bytes, 0, prefix.Length);
            Buffer.BlockCopy(keyBytes, 0, bytes, prefix.Length, keyBytes.Length);
            Array.Clear(keyBytes, 0, keyBytes.Length);
            try
            {
                using (var sha = System.Security.Cryptography.SHA256.Create())
                {
                    var hash = sha.ComputeHash(bytes);
                    var sb = new StringBuilder();
                    for (int i = 0; i < 16; i++) sb.Append(hash[i].ToString("x2"));
                    return sb.ToString();
                }
            }
            finally
            {
                Array.Clear(chars, 0, chars.Length);
                Array.Clear(bytes, 0, bytes.Length);
            }
        }

        private char[] ReadChars()
        {
            IntPtr ptr = IntPtr.Zero;
            try
            {
                ptr = Marshal.SecureStringToGlobalAllocUnicode(_secret);
                var chars = new char[_secret.Length];
                Marshal.Copy(ptr, chars, 0, chars.Length);
                return chars;
            }
            finally
            {
                if (ptr != IntPtr.Zero) Marshal.ZeroFreeGlobalAllocUnicode(ptr);
            }
        }

        private string ComputeHint()
        {
            char[] chars = ReadChars();
            try
            {
                int n = Math.Min(4, chars.Length / 4); // never reveal more than a quarter of a short key
                return n == 0 ? "****" : "..." + new string(chars, chars.Length - n, n);
            }
            finally { Array.Clear(chars, 0, chars.Length); }
        }

        public override string ToString() => "CalStudio API key " + Hint;

        public void Dispose() => _secret.Dispose();
    }
}
