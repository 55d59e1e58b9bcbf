using System;
using System.Diagnostics;
using System.IO;
using System.Text.RegularExpressions;

namespace CalStudio.Tests
{
    /// <summary>Starts the built emulator (out/emulator) on a free loopback port for the tests of one class.</summary>
    public sealed class EmulatorFixture : IDisposable
    {
        public const string Key = "cs_xunit_key_0001";
        private readonly Process _process;

        public EmulatorFixture()
        {
            string dll = Path.Combine(RepoRoot, "out", "emulator", "CalStudio.Emulator.dll");
            if (!File.Exists(dll)) throw new InvalidOperationException("Build first (dotnet pwsh ./build.ps1): " + dll + " is missing.");
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
            foreach (var a in new[] { dll, "--port", "0", "--key", Key, "--exit-on-stdin-eof" }) psi.ArgumentList.Add(a);
            _process = Process.Start(psi);
            string first = _process.StandardOutput.ReadLine() ?? "";
            var match = Regex.Match(first, @"(https?://\S+)");
            if (!match.Success) throw new InvalidOperationException("The emulator did not start: " + first);
            BaseUri = new Uri(match.Groups[1].Value);
        }

        public Uri BaseUri { get; }

        public static string RepoRoot
        {
            get
            {
                var dir = new DirectoryInfo(AppContext.BaseDirectory);
                while (dir != null && !File.Exists(Path.Combine(dir.FullName, "CalStudio.PowerShell.sln"))) dir = dir.Parent;
                return dir?.FullName ?? throw new InvalidOperationException("Repository root not found.");
            }
        }

        public void Dispose()
        {
            try { _process.StandardInput.Close(); } catch (IOException) { }
            if (!_process.WaitForExit(5000)) _process.Kill(true);
            _process.Dispose();
        }
    }
}
