using System.Linq;
using System.Management.Automation;
using Xunit;

namespace CalStudio.Tests
{
    /// <summary>Progress as an interactive host sees it: done and failed counts, rate, percent and ETA, then Completed.</summary>
    public class ProgressTests : IClassFixture<EmulatorFixture>
    {
        private readonly EmulatorFixture _emulator;
        public ProgressTests(EmulatorFixture emulator) { _emulator = emulator; }

        [Fact]
        public void Reports_counts_rate_and_eta_while_running_and_completes()
        {
            var host = new TestHost(withConsole: true);
            using (var runspace = ModuleRunspace.Open(host))
            using (var ps = PowerShell.Create())
            {
                ps.Runspace = runspace;
                ps.AddScript(
                    "Connect-CalStudio -ApiKey (ConvertTo-SecureString $args[0] -AsPlainText -Force) -BaseUri $args[1] -AppName p -MaxRetries 0;" +
                    "$rows = @(1..24 | ForEach-Object { \"emu:sleep:150 row $_\" }) + 'emu:status:400 bad';" +
                    "$rows | Invoke-CalStudioPrompt -ThrottleLimit 2 -TotalCount $rows.Count -ErrorAction SilentlyContinue")
                    .AddArgument(EmulatorFixture.Key).AddArgument(_emulator.BaseUri);
                Assert.Equal(24, ps.Invoke().Count);
            }

            var records = host.Progress;
            Assert.NotEmpty(records);
            var running = records.Where(r => r.RecordType == ProgressRecordType.Processing).ToList();
            Assert.True(running.Count >= 2, "expected progress while running, got " + running.Count);
            Assert.All(running, r => Assert.Matches(@"^\d+ done, \d+ failed, \d+(\.\d+)? per minute$", r.StatusDescription));
            Assert.Contains(running, r => r.PercentComplete > 0 && r.PercentComplete < 100 && r.SecondsRemaining >= 0);
            Assert.Equal(ProgressRecordType.Completed, records.Last().RecordType);
        }
    }
}
