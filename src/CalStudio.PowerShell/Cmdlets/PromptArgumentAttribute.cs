using System;
using System.Management.Automation;

namespace CalStudio.Commands
{
    /// <summary>
    /// A prompt is text. PowerShell would turn a hashtable or an array into "System.Collections.Hashtable" and spend quota
    /// on it; this lets such a value through as a marked string so the row fails as InvalidPrompt instead. Script blocks
    /// pass untouched: they are delay-bind arguments that PowerShell runs per row.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property)]
    internal sealed class PromptArgumentAttribute : ArgumentTransformationAttribute
    {
        private const string Marker = "\u0000CalStudio.NotText:";

        public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
        {
            object value = inputData is PSObject ps ? ps.BaseObject : inputData;
            if (value == null || value is string || value is ScriptBlock || IsScalar(value)) return inputData;
            string type = value is PSCustomObject ? "PSCustomObject" : value.GetType().Name;
            return Marker + type;
        }

        /// <summary>True, with the value's type name, when the bound prompt stood for something that is not text.</summary>
        public static bool IsNotText(string prompt, out string typeName)
        {
            typeName = null;
            if (prompt == null || !prompt.StartsWith(Marker, StringComparison.Ordinal)) return false;
            typeName = prompt.Substring(Marker.Length);
            return true;
        }

        private static bool IsScalar(object value) =>
            value.GetType().IsPrimitive || value is decimal || value is DateTime || value is DateTimeOffset || value is TimeSpan ||
            value is Guid || value is Enum || value is Uri || value is Version;
    }
}
