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
        public static string Write(object value)
        {
            var sb = new StringBuilder();
            Append(sb, value);
            return sb.ToString();
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
