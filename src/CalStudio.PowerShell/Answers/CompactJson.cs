using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using CalStudio.Client;

namespace CalStudio.Answers
{
    /// <summary>
    /// Writes a value of the module's JSON reader back as compact JSON: a nested object or array of an answer goes
    /// into its CSV cell this way, and error texts quote values with it. Numbers round-trip ("R").
    /// </summary>
    internal static class CompactJson
    {
        // One buffer per thread: an array answer's cell ("tags") is written per row, and a growing new builder
        // cost three arrays a time. Taken while in use, so a nested call (there is none today) would get its own.
        [ThreadStatic] private static StringBuilder t_buffer;
        private const int MaxKeptCapacity = 1024; // a huge answer's buffer is not kept

        public static string Write(object value)
        {
            var sb = t_buffer ?? new StringBuilder(64);
            t_buffer = null;
            sb.Clear();
            Append(sb, value);
            string text = sb.ToString();
            if (sb.Capacity <= MaxKeptCapacity) t_buffer = sb;
            return text;
        }

        private static void Append(StringBuilder sb, object value)
        {
            switch (value)
            {
                case null: sb.Append("null"); break;
                case string s: Json.WriteString(sb, s); break;
                case bool b: sb.Append(b ? "true" : "false"); break;
                case double d: sb.Append(d.ToString("R", CultureInfo.InvariantCulture)); break;
                case List<object> list:
                    sb.Append('[');
                    for (int i = 0; i < list.Count; i++) { if (i > 0) sb.Append(','); Append(sb, list[i]); }
                    sb.Append(']');
                    break;
                case Dictionary<string, object> o:
                    sb.Append('{');
                    bool first = true;
                    foreach (var pair in o)
                    {
                        if (!first) sb.Append(',');
                        first = false;
                        Json.WriteString(sb, pair.Key);
                        sb.Append(':');
                        Append(sb, pair.Value);
                    }
                    sb.Append('}');
                    break;
                default: Json.WriteString(sb, System.Convert.ToString(value, CultureInfo.InvariantCulture)); break;
            }
        }
    }
}
