using System.Reflection;

namespace CalStudio
{
    internal static class ModuleInfo
    {
        /// <summary>The informational version the build stamped (Directory.Build.props), without a source hash.</summary>
        public static readonly string Version = ReadVersion();

        private static string ReadVersion()
        {
            var info = typeof(ModuleInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
            int plus = info.IndexOf('+');
            return plus >= 0 ? info.Substring(0, plus) : info;
        }
    }
}
