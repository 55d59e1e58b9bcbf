using System;
using System.Collections.Generic;
using CalStudio.Client;

namespace CalStudio.Answers
{
    /// <summary>Where in the message the JSON object was found.</summary>
    public enum AnswerSource
    {
        /// <summary>The whole message (trimmed) is the object.</summary>
        Whole,
        /// <summary>A fenced block (```json or plain ```) holds it.</summary>
        Fenced,
        /// <summary>The first balanced top-level object in prose that parses.</summary>
        Prose,
    }

    /// <summary>What the extractor found: an object and where, or why there is none. Immutable.</summary>
    internal sealed class Extraction
    {
        private Extraction(Dictionary<string, object> value, AnswerSource? source, string error) { Value = value; Source = source; Error = error; }

        public Dictionary<string, object> Value { get; }
        public AnswerSource? Source { get; }
        /// <summary>In plain words, for the re-ask and the AnswerNotValid record; null when found.</summary>
        public string Error { get; }
        public bool Found => Value != null;

        public static Extraction Of(Dictionary<string, object> value, AnswerSource source) => new Extraction(value, source, null);
        public static Extraction Failed(string error) => new Extraction(null, null, error);
    }

    /// <summary>
    /// Finds the JSON object in an app's answer, trying in order: the whole message, a fenced block, the first
    /// balanced top-level object in prose. Parsing is the module's own <see cref="Json"/> reader, so duplicate names
    /// (the last wins), lone surrogate escapes (refused) and numbers behave as everywhere else in the module, and
    /// nothing turns a date-like string into a DateTime (as ConvertFrom-Json would). Pure and thread-safe.
    /// </summary>
    internal static class JsonAnswerExtractor
    {
        private const string Fence = "```";
        // Enough for any answer an app gives; a hostile 8 MB message of braces must not cost quadratic time.
        private const int MaxProseCandidates = 16;

        public static Extraction Extract(string message) => Extract(message, null);

        /// <param name="message">The app's answer.</param>
        /// <param name="knownNames">The schema's property names: a key spelt as one of them is that string, not a copy.</param>
        public static Extraction Extract(string message, IReadOnlyList<string> knownNames)
        {
            if (string.IsNullOrWhiteSpace(message)) return Extraction.Failed("the answer is empty");
            string firstError = null;

            var whole = TryObject(message.Trim(), knownNames, "the answer", ref firstError);
            if (whole != null) return Extraction.Of(whole, AnswerSource.Whole);

            foreach (string block in FencedBlocks(message))
            {
                var fenced = TryObject(block, knownNames, "the fenced block", ref firstError);
                if (fenced != null) return Extraction.Of(fenced, AnswerSource.Fenced);
            }

            int candidates = 0, searchFrom = 0;
            string proseError = null;
            while (candidates < MaxProseCandidates && TryFindBalanced(message, searchFrom, out int start, out int end))
            {
                candidates++;
                var inProse = TryObject(message.Substring(start, end - start), knownNames, "the object in the text", ref proseError);
                if (inProse != null) return Extraction.Of(inProse, AnswerSource.Prose);
                searchFrom = start + 1;
            }
            return Extraction.Failed(firstError ?? proseError ?? DescribeNoObject(message));
        }

        private static string DescribeNoObject(string message) =>
            message.IndexOf('{') < 0 ? "the answer holds no JSON object" : "the answer holds no complete JSON object";

        /// <summary>The object, or null with the first reason recorded (a JSON syntax error beats "not an object").</summary>
        private static Dictionary<string, object> TryObject(string text, IReadOnlyList<string> knownNames, string what, ref string error)
        {
            try
            {
                object value = Json.Parse(text, knownNames);
                if (value is Dictionary<string, object> o) return o;
                if (error == null) error = what + " is JSON but not an object";
            }
            catch (FormatException ex)
            {
                // Only a text that looks like JSON is worth naming: prose that merely starts with a word is not an error.
                if (text.StartsWith("{", StringComparison.Ordinal) || text.StartsWith("[", StringComparison.Ordinal))
                    error = error ?? what + " is not valid JSON (" + ex.Message.TrimEnd('.') + ")";
            }
            return null;
        }

        /// <summary>The contents of each ``` fence pair, with an info word (json, JSON, jsonc) dropped from the first line.</summary>
        internal static IEnumerable<string> FencedBlocks(string message)
        {
            int from = 0;
            while (true)
            {
                int open = message.IndexOf(Fence, from, StringComparison.Ordinal);
                if (open < 0) yield break;
                int bodyStart = open + Fence.Length;
                int close = message.IndexOf(Fence, bodyStart, StringComparison.Ordinal);
                if (close < 0) yield break;
                string body = message.Substring(bodyStart, close - bodyStart);
                int newline = body.IndexOf('\n');
                if (newline >= 0 && body.Substring(0, newline).Trim().IndexOf('{') < 0 && body.Substring(0, newline).Trim().IndexOf(' ') < 0)
                    body = body.Substring(newline + 1); // the info string: "json" or nothing
                yield return body.Trim();
                from = close + Fence.Length;
            }
        }

        /// <summary>From the first '{' at or after <paramref name="from"/>: its matching '}', skipping braces inside JSON strings.</summary>
        internal static bool TryFindBalanced(string s, int from, out int start, out int end)
        {
            start = s.IndexOf('{', from);
            end = -1;
            while (start >= 0)
            {
                int depth = 0;
                bool inString = false;
                for (int i = start; i < s.Length; i++)
                {
                    char c = s[i];
                    if (inString)
                    {
                        if (c == '\\') i++;
                        else if (c == '"') inString = false;
                        continue;
                    }
                    if (c == '"') inString = true;
                    else if (c == '{') depth++;
                    else if (c == '}' && --depth == 0) { end = i + 1; return true; }
                }
                return false; // unbalanced to the end: no later '{' can close either
            }
            return false;
        }
    }
}
