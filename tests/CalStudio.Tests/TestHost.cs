using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using System.Security;
using System.Text;

namespace CalStudio.Tests
{
    /// <summary>Runspaces that import the built module (out/CalStudio), as a user's session would.</summary>
    internal static class ModuleRunspace
    {
        public static Runspace Open(PSHost host = null)
        {
            var iss = InitialSessionState.CreateDefault2();
            iss.ImportPSModule(new[] { Path.Combine(EmulatorFixture.RepoRoot, "out", "CalStudio", "CalStudio.psd1") });
            var runspace = host == null ? RunspaceFactory.CreateRunspace(iss) : RunspaceFactory.CreateRunspace(host, iss);
            runspace.Open();
            return runspace;
        }
    }

    /// <summary>
    /// A minimal interactive host: "types" <see cref="TypedKey"/> at a secure prompt, records what is written and the
    /// progress it is shown, and has a console (RawUI) only when asked, since the module draws progress only then.
    /// </summary>
    internal sealed class TestHost : PSHost
    {
        private readonly TestHostUI _ui;

        public TestHost(string typedKey = "", bool withConsole = false) { _ui = new TestHostUI(typedKey, withConsole); }

        public int SecureReads => _ui.SecureReads;
        public string Written => _ui.Written.ToString();
        public List<ProgressRecord> Progress => _ui.Progress;

        public override string Name => "TestHost";
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

        private sealed class TestHostUI : PSHostUserInterface
        {
            private readonly string _typedKey;
            private readonly PSHostRawUserInterface _raw;

            public TestHostUI(string typedKey, bool withConsole)
            {
                _typedKey = typedKey;
                _raw = withConsole ? new FixedRawUI() : null;
            }

            public int SecureReads;
            public readonly StringBuilder Written = new StringBuilder();
            public readonly List<ProgressRecord> Progress = new List<ProgressRecord>();

            public override PSHostRawUserInterface RawUI => _raw;
            public override string ReadLine() => "";

            public override SecureString ReadLineAsSecureString()
            {
                SecureReads++;
                var s = new SecureString();
                foreach (char c in _typedKey) s.AppendChar(c);
                return s;
            }

            public override void WriteProgress(long sourceId, ProgressRecord record)
            {
                // The cmdlet reuses one record: keep a copy of what the host was shown at this moment.
                Progress.Add(new ProgressRecord(record.ActivityId, record.Activity, record.StatusDescription)
                {
                    PercentComplete = record.PercentComplete, SecondsRemaining = record.SecondsRemaining, RecordType = record.RecordType,
                });
            }

            public override void Write(string value) => Written.Append(value);
            public override void Write(ConsoleColor f, ConsoleColor b, string value) => Written.Append(value);
            public override void WriteLine(string value) => Written.AppendLine(value);
            public override void WriteErrorLine(string value) => Written.AppendLine(value);
            public override void WriteDebugLine(string message) => Written.AppendLine(message);
            public override void WriteVerboseLine(string message) => Written.AppendLine(message);
            public override void WriteWarningLine(string message) => Written.AppendLine(message);
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
