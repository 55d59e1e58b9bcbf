using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using System.Security;
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
            var host = new RecordingHost();
            var iss = InitialSessionState.CreateDefault2();
            iss.ImportPSModule(new[] { Path.Combine(EmulatorFixture.RepoRoot, "out", "CalStudio", "CalStudio.psd1") });
            using (var runspace = RunspaceFactory.CreateRunspace(host, iss))
            {
                runspace.Open();
                using (var ps = PowerShell.Create())
                {
                    ps.Runspace = runspace;
                    ps.AddScript(
                        "Connect-CalStudio -ApiKey (ConvertTo-SecureString $args[0] -AsPlainText -Force) -BaseUri $args[1] -AppName p -MaxRetries 0;" +
                        "$rows = @(1..24 | ForEach-Object { \"emu:sleep:150 row $_\" }) + 'emu:status:400 bad';" +
                        "$rows | Invoke-CalStudioPrompt -ThrottleLimit 2 -TotalCount $rows.Count -ErrorAction SilentlyContinue")
                        .AddArgument(EmulatorFixture.Key).AddArgument(_emulator.BaseUri);
                    var output = ps.Invoke();
                    Assert.Equal(24, output.Count);
                }
            }

            var records = host.Progress;
            Assert.NotEmpty(records);
            var running = records.Where(r => r.RecordType == ProgressRecordType.Processing).ToList();
            Assert.True(running.Count >= 2, "expected progress while running, got " + running.Count);
            Assert.All(running, r => Assert.Matches(@"^\d+ done, \d+ failed, \d+ per minute$", r.StatusDescription));
            Assert.Contains(running, r => r.PercentComplete > 0 && r.PercentComplete < 100 && r.SecondsRemaining >= 0);
            Assert.Equal(ProgressRecordType.Completed, records.Last().RecordType);
        }

        private sealed class RecordingHost : PSHost
        {
            private readonly RecordingUI _ui = new RecordingUI();
            public List<ProgressRecord> Progress => _ui.Progress;
            public override string Name => "RecordingHost";
            public override Version Version => new Version(1, 0);
            public override Guid InstanceId { get; } = Guid.NewGuid();
            public override PSHostUserInterface UI => _ui;
            public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;
            public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;
            public override void SetShouldExit(int exitCode) { }
            public override void EnterNestedPrompt() { }
            public override void ExitNestedPrompt() { }
            public override void NotifyBeginApplication() { }
            public override void NotifyEndApplication() { }
        }

        private sealed class RecordingUI : PSHostUserInterface
        {
            private readonly PSHostRawUserInterface _raw = new FixedRawUI();
            public readonly List<ProgressRecord> Progress = new List<ProgressRecord>();
            public override PSHostRawUserInterface RawUI => _raw;
            public override void WriteProgress(long sourceId, ProgressRecord record)
            {
                // The cmdlet reuses one record: keep a copy of what the host was shown at this moment.
                Progress.Add(new ProgressRecord(record.ActivityId, record.Activity, record.StatusDescription)
                {
                    PercentComplete = record.PercentComplete, SecondsRemaining = record.SecondsRemaining, RecordType = record.RecordType,
                });
            }
            public override string ReadLine() => "";
            public override SecureString ReadLineAsSecureString() => new SecureString();
            public override void Write(string value) { }
            public override void Write(ConsoleColor f, ConsoleColor b, string value) { }
            public override void WriteLine(string value) { }
            public override void WriteErrorLine(string value) { }
            public override void WriteDebugLine(string message) { }
            public override void WriteVerboseLine(string message) { }
            public override void WriteWarningLine(string message) { }
            public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) => throw new NotSupportedException();
            public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice) => defaultChoice;
            public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw new NotSupportedException();
            public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw new NotSupportedException();
        }

        private sealed class FixedRawUI : PSHostRawUserInterface
        {
            public override ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;
            public override ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;
            public override Coordinates CursorPosition { get; set; }
            public override Coordinates WindowPosition { get; set; }
            public override int CursorSize { get; set; }
            public override Size BufferSize { get; set; } = new Size(120, 50);
            public override Size WindowSize { get; set; } = new Size(120, 50);
            public override Size MaxWindowSize => new Size(120, 50);
            public override Size MaxPhysicalWindowSize => new Size(120, 50);
            public override bool KeyAvailable => false;
            public override string WindowTitle { get; set; } = "";
            public override KeyInfo ReadKey(ReadKeyOptions options) => throw new NotSupportedException();
            public override void FlushInputBuffer() { }
            public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) { }
            public override void SetBufferContents(Rectangle rectangle, BufferCell fill) { }
            public override BufferCell[,] GetBufferContents(Rectangle rectangle) => new BufferCell[0, 0];
            public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) { }
        }
    }
}
