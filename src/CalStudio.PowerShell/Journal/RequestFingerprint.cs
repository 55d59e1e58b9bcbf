using System;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CalStudio.Journal
{
    /// <summary>
    /// What identifies a request: SHA-256 of app name, prompt and file URL, length-prefixed so fields cannot run
    /// together, as "sha256:" and 32 hex digits (the first 16 bytes). A journal entry answers a row only when its
    /// fingerprint is the row's: the same key with another prompt is another question.
    /// </summary>
    internal static class RequestFingerprint
    {
        private const string Prefix = "sha256:";

        public static string Of(string appName, string prompt, string fileUrl)
        {
            var sb = new StringBuilder();
            foreach (var part in new[] { appName ?? "", prompt ?? "", fileUrl ?? "" })
                sb.Append(part.Length).Append(':').Append(part).Append('|');
            var sha = _sha ?? (_sha = SHA256.Create()); // one per thread: opening an old journal hashes every line
            var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(sb.ToString()));
            var hex = new StringBuilder(Prefix, Prefix.Length + 32);
            for (int i = 0; i < 16; i++) hex.Append(hash[i].ToString("x2", CultureInfo.InvariantCulture));
            return hex.ToString();
        }

        [ThreadStatic] private static SHA256 _sha;

        /// <summary>The 128 bits of a fingerprint, 16 bytes in memory instead of a 39-character string per journaled row.</summary>
        public static bool TryPack(string fingerprint, out Packed packed)
        {
            packed = default(Packed);
            if (fingerprint == null || fingerprint.Length != Prefix.Length + 32 || !fingerprint.StartsWith(Prefix, StringComparison.Ordinal)) return false;
            if (!TryHex(fingerprint, Prefix.Length, out ulong high) || !TryHex(fingerprint, Prefix.Length + 16, out ulong low)) return false;
            packed = new Packed(high, low);
            return true;
        }

        private static bool TryHex(string s, int start, out ulong value)
        {
            value = 0;
            for (int i = start; i < start + 16; i++)
            {
                char c = s[i];
                int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
                if (digit < 0) return false;
                value = (value << 4) | (uint)digit;
            }
            return true;
        }

        public struct Packed : IEquatable<Packed>
        {
            private readonly ulong _high, _low;
            public Packed(ulong high, ulong low) { _high = high; _low = low; }
            public bool Equals(Packed other) => _high == other._high && _low == other._low;
            public override bool Equals(object obj) => obj is Packed p && Equals(p);
            public override int GetHashCode() => _low.GetHashCode();
        }
    }
}
