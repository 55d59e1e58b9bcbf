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

        /// <summary>The ToString the wrapped time answers with: ISO 8601 round-trip ("o"), the local time and its offset.</summary>
        public static string ToRoundTrip(PSObject instance) =>
            instance?.BaseObject is DateTimeOffset time ? time.ToString("o", CultureInfo.InvariantCulture) : instance?.ToString();

        private static readonly System.Reflection.MethodInfo ToRoundTripMethod = typeof(TimeMembers).GetMethod(nameof(ToRoundTrip));

        private static PSObject RoundTrip(DateTimeOffset time)
        {
            var wrapped = new PSObject(time);
            wrapped.Methods.Add(new PSCodeMethod("ToString", ToRoundTripMethod));
            return wrapped;
        }
    }
}
