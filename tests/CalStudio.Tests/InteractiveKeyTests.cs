using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using System.Security;
using Xunit;

namespace CalStudio.Tests
{
    /// <summary>The third place Connect-CalStudio looks for a key: a masked prompt, in an interactive host only.</summary>
    public class InteractiveKeyTests : IClassFixture<EmulatorFixture>
    {
        private readonly EmulatorFixture _emulator;
        public InteractiveKeyTests(EmulatorFixture emulator) { _emulator = emulator; }

        private Collection<PSObject> RunInHost(TypingHost host, string script, out IList<ErrorRecord> errors)
        {
            var iss = InitialSessionState.CreateDefault2();
            iss.ImportPSModule(new[] { Path.Combine(EmulatorFixture.RepoRoot, "out", "CalStudio", "CalStudio.psd1") });
            using (var runspace = RunspaceFactory.CreateRunspace(host, iss))
            {
                runspace.Open();
                using (var ps = PowerShell.Create())
                {
                    ps.Runspace = runspace;
                    ps.AddScript(script).AddArgument(_emulator.BaseUri);
                    var output = ps.Invoke();
                    errors = new List<ErrorRecord>(ps.Streams.Error);
                    return output;
                }
            }
        }

        [Fact]
        public void Prompts_for_the_key_when_neither_parameter_nor_environment_gives_one()
        {
            Environment.SetEnvironmentVariable("CALSTUDIO_API_KEY", null);
            var host = new TypingHost(EmulatorFixture.Key);
            var output = RunInHost(host, "Connect-CalStudio -BaseUri $args[0] -AppName typed; (Invoke-CalStudioPrompt -Prompt 'typed key').Message", out var errors);
            Assert.Empty(errors);
            Assert.Equal("typed answers: typed key", Assert.Single(output).BaseObject);
            Assert.Equal(1, host.SecureReads);
            Assert.Contains("CalStudio API key", host.Written);
            Assert.DoesNotContain(EmulatorFixture.Key, host.Written);
        }

        [Fact]
        public void Does_not_prompt_when_the_key_is_given()
        {
            var host = new TypingHost("never-typed");
            RunInHost(host, "Connect-CalStudio -BaseUri $args[0] -ApiKey (ConvertTo-SecureString 'x_key_given' -AsPlainText -Force)", out var errors);
            Assert.Empty(errors);
            Assert.Equal(0, host.SecureReads);
        }

        /// <summary>A minimal interactive host that "types" a key at a secure prompt.</summary>
        private sealed class TypingHost : PSHost
        {
            private readonly TypingUI _ui;
            public TypingHost(string typed) { _ui = new TypingUI(typed); }
            public int SecureReads => _ui.SecureReads;
            public string Written => _ui.Written.ToString();
            public override string Name => "TypingHost";
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

        private sealed class TypingUI : PSHostUserInterface
        {
            private readonly string _typed;
            public TypingUI(string typed) { _typed = typed; }
            public int SecureReads;
            public readonly System.Text.StringBuilder Written = new System.Text.StringBuilder();
            public override PSHostRawUserInterface RawUI => null;
            public override string ReadLine() => "";
            public override SecureString ReadLineAsSecureString()
            {
                SecureReads++;
                var s = new SecureString();
                foreach (char c in _typed) s.AppendChar(c);
                return s;
            }
            public override void Write(string value) => Written.Append(value);
            public override void Write(ConsoleColor f, ConsoleColor b, string value) => Written.Append(value);
            public override void WriteLine(string value) => Written.AppendLine(value);
            public override void WriteErrorLine(string value) => Written.AppendLine(value);
            public override void WriteDebugLine(string message) => Written.AppendLine(message);
            public override void WriteProgress(long sourceId, ProgressRecord record) { }
            public override void WriteVerboseLine(string message) => Written.AppendLine(message);
            public override void WriteWarningLine(string message) => Written.AppendLine(message);
            public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) => throw new NotSupportedException();
            public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice) => defaultChoice;
            public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw new NotSupportedException();
            public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw new NotSupportedException();
        }
    }
}
