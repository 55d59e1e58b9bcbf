namespace CalStudio.Engine
{
    /// <summary>How messages name a row: by its -KeyProperty value when it has one (what the user knows it by), else by its number.</summary>
    internal static class RowLabel
    {
        public static string Of(long number, string key) =>
            string.IsNullOrEmpty(key) ? "Row " + number : "Row " + Client.ResponseParser.Shorten(key, 60) + " (row " + number + ")";
    }
}
