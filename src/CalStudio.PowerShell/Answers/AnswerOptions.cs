using System;
using System.IO;
using System.Text;

namespace CalStudio.Answers
{
    /// <summary>The answer stage a batch's -ResponseFormat, -ResponseSchema and -MaxReasks ask for.</summary>
    internal static class AnswerOptions
    {
        public const string Text = "Text";
        public const string Json = "Json";

        /// <summary>A schema alone means JSON. Throws SchemaException on a schema that cannot be read or used.</summary>
        /// <param name="schema">JSON text (it starts with '{'), or the path of a .json file.</param>
        /// <param name="resolvePath">The cmdlet's provider path resolution, so a relative path means the current location.</param>
        public static IAnswerStage Build(string format, string schema, int maxReasks, Func<string, string> resolvePath)
        {
            bool json = string.Equals(format, Json, StringComparison.OrdinalIgnoreCase) || schema != null;
            if (!json) return TextAnswerStage.Instance;
            return new JsonAnswerStage(schema == null ? null : ResponseSchema.Parse(SchemaText(schema, resolvePath)), maxReasks);
        }

        private static string SchemaText(string schema, Func<string, string> resolvePath)
        {
            if (schema.TrimStart().StartsWith("{", StringComparison.Ordinal)) return schema;
            string path = resolvePath(schema);
            try { return File.ReadAllText(path, Encoding.UTF8); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is ArgumentException || ex is NotSupportedException)
            {
                throw new SchemaException("The response schema file '" + path + "' cannot be read: " + ex.Message);
            }
        }
    }
}
