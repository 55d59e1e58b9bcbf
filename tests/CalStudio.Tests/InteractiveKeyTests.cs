using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Management.Automation;
using Xunit;

namespace CalStudio.Tests
{
    /// <summary>The third place Connect-CalStudio looks for a key: a masked prompt, in an interactive host only.</summary>
    public class InteractiveKeyTests : IClassFixture<EmulatorFixture>
    {
        private readonly EmulatorFixture _emulator;
        public InteractiveKeyTests(EmulatorFixture emulator) { _emulator = emulator; }

        private Collection<PSObject> RunInHost(TestHost host, string script, out IList<ErrorRecord> errors)
        {
            using (var runspace = ModuleRunspace.Open(host))
            using (var ps = PowerShell.Create())
            {
                ps.Runspace = runspace;
                ps.AddScript(script).AddArgument(_emulator.BaseUri);
                var output = ps.Invoke();
                errors = new List<ErrorRecord>(ps.Streams.Error);
                return output;
            }
        }

        [Fact]
        public void Prompts_for_the_key_when_neither_parameter_nor_environment_gives_one()
        {
            Environment.SetEnvironmentVariable("CALSTUDIO_API_KEY", null);
            var host = new TestHost(typedKey: EmulatorFixture.Key);
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
            var host = new TestHost(typedKey: "never-typed");
            RunInHost(host, "Connect-CalStudio -BaseUri $args[0] -ApiKey (ConvertTo-SecureString 'x_key_given' -AsPlainText -Force)", out var errors);
            Assert.Empty(errors);
            Assert.Equal(0, host.SecureReads);
        }
    }
}
