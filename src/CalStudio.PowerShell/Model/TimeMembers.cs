using System;
using System.Globalization;
using System.Management.Automation;

namespace CalStudio
{
    /// <summary>
    /// The types file's code members for times. Export-Csv writes a value with its ToString(), which for a
    /// DateTimeOffset follows the current culture (12/02/2026 here, 02.12.2026 there): a CSV from one machine would
    /// neither sort nor parse on another. Response.CompletedAt is therefore shown through <see cref="CompletedAt"/>: the
    /// same DateTimeOffset (it compares, sorts and formats as one), whose text is ISO 8601 round-trip in every culture.
    /// </summary>
    public static class TimeMembers
    {
        public static object CompletedAt(PSObject instance) =>
            instance?.BaseObject is Response r ? RoundTrip(r.CompletedAt) : null;

        /// <summary>Keeps the property settable from PowerShell, as the CLR property it stands in for is.</summary>
        public static void SetCompletedAt(PSObject instance, object value)
        {
            if (instance?.BaseObject is Response r)
                r.CompletedAt = (DateTimeOffset)LanguagePrimitives.ConvertTo(value, typeof(DateTimeOffset), CultureInfo.InvariantCulture);
        }

        /// <summary>
        /// The ToString the wrapped time answers with: without arguments ISO 8601 round-trip ("o"), the local time and
        /// its offset; with a format (and a provider), what DateTimeOffset.ToString gives, so $t.ToString('yyyy-MM-dd') still works.
        /// </summary>
        public static string ToRoundTrip(PSObject instance, params object[] arguments)
        {
            if (!(instance?.BaseObject is DateTimeOffset time)) return instance?.ToString();
            if (arguments == null || arguments.Length == 0) return time.ToString("o", CultureInfo.InvariantCulture);
            string format = arguments[0] as string ?? (arguments[0] as PSObject)?.BaseObject as string;
            var provider = (arguments.Length > 1 ? (arguments[1] as PSObject)?.BaseObject ?? arguments[1] : arguments[0]) as IFormatProvider;
            return time.ToString(format, provider ?? CultureInfo.CurrentCulture);
        }

        private static readonly System.Reflection.MethodInfo ToRoundTripMethod = typeof(TimeMembers).GetMethod(nameof(ToRoundTrip));

        private static PSObject RoundTrip(DateTimeOffset time)
        {
            var wrapped = new PSObject(time);
            wrapped.Methods.Add(new PSCodeMethod("ToString", ToRoundTripMethod));
            return wrapped;
        }
    }
}
