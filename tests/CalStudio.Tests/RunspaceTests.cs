using System;
using System.Collections.ObjectModel;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Xunit;

namespace CalStudio.Tests
{
    /// <summary>The cmdlets hosted in process (PowerShell SDK), importing the built module as a user would.</summary>
    public class RunspaceTests : IClassFixture<EmulatorFixture>, IDisposable
    {
        private readonly EmulatorFixture _emulator;
        private readonly Runspace _runspace;

        public RunspaceTests(EmulatorFixture emulator)
        {
            _emulator = emulator;
            _runspace = ModuleRunspace.Open();
            Run("Connect-CalStudio -ApiKey (ConvertTo-SecureString $args[0] -AsPlainText -Force) -BaseUri $args[1] -AppName xunit -MaxRetries 0",
                EmulatorFixture.Key, _emulator.BaseUri);
        }

        private Collection<PSObject> Run(string script, params object[] args) => Run(script, out _, args);

        private Collection<PSObject> Run(string script, out System.Collections.Generic.List<ErrorRecord> errors, params object[] args)
        {
            using (var ps = PowerShell.Create())
            {
                ps.Runspace = _runspace;
                ps.AddScript(script);
                foreach (var a in args) ps.AddArgument(a);
                var output = ps.Invoke();
                errors = ps.Streams.Error.ToList(); // copied: the streams go with the PowerShell instance
                return output;
            }
        }

        [Fact]
        public void Emits_typed_responses_in_input_order()
        {
            var output = Run("1..30 | ForEach-Object { \"q$_\" } | Invoke-CalStudioPrompt -ThrottleLimit 8");
            Assert.Equal(30, output.Count);
            var responses = output.Select(o => Assert.IsType<Response>(o.BaseObject)).ToList();
            Assert.Equal(Enumerable.Range(1, 30).Select(i => "q" + i), responses.Select(r => r.Prompt));
            Assert.All(responses, r => Assert.Equal("xunit answers: " + r.Prompt, r.Message));
            Assert.Equal("CalStudio.Response", output[0].TypeNames[0]);
        }

        [Fact]
        public void A_failed_row_is_a_non_terminating_error_with_the_row_attached()
        {
            var output = Run("[pscustomobject]@{ Id = 7; Prompt = 'emu:status:400 bad' }, [pscustomobject]@{ Id = 8; Prompt = 'good' } | Invoke-CalStudioPrompt",
                out var errors);
            Assert.Single(output);
            Assert.Equal(8, output[0].Properties["Id"].Value);
            var error = Assert.Single(errors);
            Assert.Equal("ApiBadRequest,CalStudio.Commands.InvokeCalStudioPromptCommand", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
            Assert.Equal(7, ((PSObject)error.TargetObject).Properties["Id"].Value);
            Assert.Contains("emulated_400", error.ErrorDetails.Message);
        }

        [Fact]
        public void The_connection_object_never_holds_the_key()
        {
            var connection = Assert.IsType<Connection>(Assert.Single(Run("Get-CalStudioConnection")).BaseObject);
            Assert.Equal("...0001", connection.KeyHint);
            string everything = string.Join("\n", typeof(Connection).GetProperties().Select(p => Convert.ToString(p.GetValue(connection))));
            Assert.DoesNotContain(EmulatorFixture.Key, everything);
        }

        public void Dispose() => _runspace.Dispose();
    }
}
