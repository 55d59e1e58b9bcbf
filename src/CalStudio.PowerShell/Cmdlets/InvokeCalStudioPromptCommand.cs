using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using CalStudio.Answers;
using CalStudio.Client;
using CalStudio.Engine;
using CalStudio.Journal;
using CalStudio.Session;

namespace CalStudio.Commands
{
    /// <summary>
    /// Invoke-CalStudioPrompt: sends prompts (strings, or rows with a Prompt column) to a CalStudio app and emits
    /// one CalStudio.Response per answer, in input order, with the row's own columns carried along.
    /// The cmdlet binds rows, hands them to <see cref="PromptBatch"/>, and writes what it hands back.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "CalStudioPrompt", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(Response))]
    public sealed class InvokeCalStudioPromptCommand : CalStudioCmdlet, IBatchHost, IDisposable
    {
        private static readonly HashSet<string> OwnParameters = new HashSet<string>(
            typeof(InvokeCalStudioPromptCommand).GetProperties().Where(p => p.IsDefined(typeof(ParameterAttribute), true)).Select(p => p.Name),
            StringComparer.OrdinalIgnoreCase);

        private CalStudioSession _session;
        private IDisposable _lease;
        private PromptBatch _batch;
        private JournalFile _journal;
        private WhatIfEstimate _whatIf;
        private HashSet<string> _boundOnCommandLine;
        private readonly OutputRecord _output = new OutputRecord();
        private RowBinder _binder;
        private bool _mayConfirm;
        private BatchProgress _progress;
        private IAnswerStage _answers;
        private readonly AnswerColumns _answerColumns;

        private readonly Func<string, bool> _outputHas; // made once: a method group is a new delegate per row

        public InvokeCalStudioPromptCommand()
        {
            _answerColumns = new AnswerColumns(DefineAnswerType);
            _outputHas = _output.Has;
        }

        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true), Alias("Question", "Text", "Input"), AllowNull, AllowEmptyString, PromptArgument]
        public string Prompt { get; set; }

        /// <summary>The prompt built from the row's columns: "Summarise {Subject}: {Body}" ({{ and }} are literal braces).</summary>
        [Parameter, ValidateNotNullOrEmpty]
        public string PromptTemplate { get; set; }

        /// <summary>The pipeline object: a string is the prompt; an object's other properties are carried to the output.</summary>
        [Parameter(ValueFromPipeline = true), AllowNull]
        public PSObject InputObject { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true), Alias("App"), AllowNull, AllowEmptyString, ArgumentCompleter(typeof(AppNameCompleter))]
        public string AppName { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true), Alias("Url", "File"), AllowNull, AllowEmptyString]
        public string FileUrl { get; set; }

        [Parameter] [ValidateRange(1, 256)] public int ThrottleLimit { get; set; }
        [Parameter] [ValidateRange(0, 20)] [Alias("MaximumRetryCount")] public int MaxRetries { get; set; }
        [Parameter] [ValidateRange(1, 3600)] public int TimeoutSec { get; set; }
        [Parameter] [ValidateRange(0, long.MaxValue)] public long TotalCount { get; set; }
        [Parameter] [ValidateNotNullOrEmpty] public string JournalPath { get; set; }
        /// <summary>The column(s) that identify a row in the journal: Id, or several (TicketId, AppName) for a composite key.</summary>
        [Parameter] [ValidateNotNullOrEmpty] public string[] KeyProperty { get; set; }

        /// <summary>Json: the answer must hold a JSON object, whose properties become columns (see about_CalStudio).</summary>
        [Parameter] [ValidateSet(AnswerOptions.Text, AnswerOptions.Json)] public string ResponseFormat { get; set; } = AnswerOptions.Text;
        /// <summary>A JSON Schema (subset) the JSON answer must meet: a .json file's path, or the JSON text. Implies -ResponseFormat Json.</summary>
        [Parameter] [ValidateNotNullOrEmpty] public string ResponseSchema { get; set; }
        [Parameter] [ValidateRange(0, 10)] public int MaxReasks { get; set; } = 1;

        protected override void BeginProcessing()
        {
            _session = RequireSession();
            _lease = _session.Lease(); // a Disconnect-CalStudio later in the pipeline must not pull the key from under this batch
            _boundOnCommandLine = new HashSet<string>(MyInvocation.BoundParameters.Keys, StringComparer.OrdinalIgnoreCase);
            bool whatIf = Bound("WhatIf") ? ((SwitchParameter)MyInvocation.BoundParameters["WhatIf"]).IsPresent
                : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));
            if (JournalPath != null) OpenJournal(readOnly: whatIf); // -WhatIf reads the journal and writes nothing: no journal, no lock file
            _binder = new RowBinder(KeyColumns.From(KeyProperty), _session.AppName, Bound(nameof(Prompt)), ParseTemplate());
            _answers = BuildAnswerStage();

            if (whatIf) { _whatIf = new WhatIfEstimate(KeyProperty != null, _journal, _answers); return; }
            // Asking ShouldProcess per row costs a message and a preference lookup each time; only do it when a prompt can result.
            _mayConfirm = Bound("Confirm") || (GetVariableValue("ConfirmPreference") is ConfirmImpact c && c <= ConfirmImpact.Low);
            _session.Pacer.CheckStateFile(); // a batch says once whether the budget is shared
            WriteBudgetWarning(_session);
            var retry = _session.Retry.With(Bound(nameof(MaxRetries)) ? MaxRetries : (int?)null, Bound(nameof(TimeoutSec)) ? TimeoutSec : (int?)null);
            _batch = new PromptBatch(_session, retry, Bound(nameof(ThrottleLimit)) ? ThrottleLimit : _session.ThrottleLimit, _journal, KeyProperty != null, this, _answers);
            if (Bound(nameof(TotalCount))) _batch.Counters.Total = TotalCount;
            if (HostShowsProgress()) _progress = new BatchProgress();
        }

        protected override void ProcessRecord()
        {
            var row = _binder.Bind(InputObject, Prompt, AppName, FileUrl, out ApiOutcome fatal);
            if (fatal != null) Terminate(fatal.ErrorId, fatal.ErrorMessage, InputObject);
            if (_whatIf != null) { _whatIf.Count(row); return; }
            if (_mayConfirm && !ShouldProcess("'" + ResponseParser.Shorten(row.Prompt ?? "", 60) + "' (app " + (row.AppName ?? "none") + ")", "Send prompt to CalStudio")) return;
            Run(() => _batch.Add(row));
        }

        protected override void EndProcessing()
        {
            if (_whatIf != null) { ShouldProcess(_whatIf.Describe(_session.Pacer), "Send prompts", "CalStudio"); WriteBudgetWarning(_session); return; }
            Run(() => _batch.Complete());
        }

        protected override void StopProcessing() => _batch?.Stop();

        private bool Bound(string name) => _boundOnCommandLine.Contains(name);

        /// <summary>-Debug, or $DebugPreference set: only then is each request traced (the trace costs a line per attempt).</summary>
        private bool TracesRequests()
        {
            if (Bound("Debug")) return ((SwitchParameter)MyInvocation.BoundParameters["Debug"]).IsPresent;
            var preference = GetVariableValue("DebugPreference");
            return preference is ActionPreference p ? p != ActionPreference.SilentlyContinue && p != ActionPreference.Ignore
                : preference != null && !"SilentlyContinue".Equals(preference.ToString(), StringComparison.OrdinalIgnoreCase);
        }

        private Engine.PromptTemplate ParseTemplate()
        {
            if (PromptTemplate == null) return null;
            try { return Engine.PromptTemplate.Parse(PromptTemplate); }
            catch (ArgumentException ex) { Terminate(ErrorIds.InvalidPrompt, ex.Message, PromptTemplate, cause: ex); return null; }
        }

        private IAnswerStage BuildAnswerStage()
        {
            try { return AnswerOptions.Build(ResponseFormat, ResponseSchema, MaxReasks, GetUnresolvedProviderPathFromPSPath); }
            catch (SchemaException ex) { Terminate(ErrorIds.InvalidResponseSchema, ex.Message, ResponseSchema, cause: ex); return null; }
        }

        private void OpenJournal(bool readOnly)
        {
            string path = GetUnresolvedProviderPathFromPSPath(JournalPath);
            string keyName = KeyColumns.From(KeyProperty)?.JournalName;
            try { _journal = readOnly ? JournalFile.OpenToRead(path, keyName) : JournalFile.Open(path, keyName); }
            catch (JournalException ex) { Terminate(ex.ErrorId, ex.Message, JournalPath, cause: ex); }
            foreach (var warning in _journal.Warnings) WriteWarning(warning);
        }

        private void Run(Action step)
        {
            try { step(); }
            catch (BatchHaltedException halt) { ThrowHalt(halt); }
            catch (OperationCanceledException) when (_batch.Cancelled.IsCancellationRequested) { throw new PipelineStoppedException(); }
        }

        // ---- IBatchHost: called on the pipeline thread only ----

        void IBatchHost.WriteAnswer(Response response, RowInput row)
        {
            var output = _output.Build(response, row);
            _answerColumns.Add(output, response, _outputHas);
            WriteObject(output);
            string renamed = _output.TakeRenameWarning();
            if (renamed != null) WriteWarning(renamed);
            string answerRenamed = _answerColumns.TakeRenameWarning();
            if (answerRenamed != null) WriteWarning(answerRenamed);
        }

        /// <summary>A session type whose default display set is the answer's columns, so Format-Table shows them (once per answer shape).</summary>
        private bool DefineAnswerType(string typeName, string[] columns)
        {
            if (_session.AnswerTypes.Contains(typeName)) return true; // an earlier batch of this session registered it
            try
            {
                InvokeCommand.InvokeScript("param($n, $c) Update-TypeData -TypeName $n -DefaultDisplayPropertySet $c -Force", false,
                    System.Management.Automation.Runspaces.PipelineResultTypes.None, null, typeName, columns);
                _session.AnswerTypes.Add(typeName);
                return true;
            }
            catch (RuntimeException) { return false; } // a restricted session: each object carries its own display set
        }

        void IBatchHost.WriteRowError(Response failed, ApiOutcome outcome, RowInput row) =>
            WriteError(Record(failed.ErrorId, RowLabel.Of(row.Number, failed.Key) + ": " + failed.ErrorMessage + AnswerColumns.RawAnswerNote(failed), row.Row, outcome,
                failed.ErrorId == ErrorIds.AnswerNotValid ? AnswerColumns.NotValidAction : null));

        void IBatchHost.WriteNote(string message) => WriteVerbose(message);

        void IBatchHost.WriteDebug(string message) => WriteDebug(message);

        bool IBatchHost.TracesRequests => TracesRequests();

        void IBatchHost.WriteWarning(string message) => WriteWarning(message);

        void IBatchHost.WriteProgress(BatchCounters c, bool completed)
        {
            if (_progress != null) WriteProgress(_progress.Next(c, completed));
        }

        private void ThrowHalt(BatchHaltedException halt)
        {
            object target = halt.Row?.Row;
            if (halt.Reason == StopReason.KeyRejected && halt.Outcome?.ErrorId == ErrorIds.ProxyAuthenticationRequired)
                Terminate(ErrorIds.ProxyAuthenticationRequired, BatchTexts.ProxyRefused(halt.Outcome), target, halt.Outcome, BatchTexts.ProxyRefusedAction);
            if (halt.Reason == StopReason.KeyRejected)
                Terminate(ErrorIds.KeyRejected, BatchTexts.KeyRejected(halt.Outcome), target, halt.Outcome, BatchTexts.KeyRejectedAction);
            string resume = BatchTexts.ResumeCommand(MyInvocation.MyCommand.Name,
                MyInvocation.BoundParameters.Where(p => _boundOnCommandLine.Contains(p.Key)), OwnParameters, JournalPath != null);
            if (halt.Reason == StopReason.JournalWriteFailed)
                Terminate(ErrorIds.JournalWriteFailed, halt.Outcome.ErrorMessage + " " + halt.Counters.Summary(), target, halt.Outcome,
                    "Free space or fix the journal's folder, then run: " + resume);
            if (halt.Reason == StopReason.ApiUnreachable)
                Terminate(ErrorIds.ApiUnreachable, BatchTexts.ApiUnreachable(halt.Counters, halt.Outcome, resume), target, halt.Outcome,
                    "Check the network, the proxy and -BaseUri; when the API answers again, run: " + resume);
            Terminate(ErrorIds.DailyQuotaExhausted, BatchTexts.QuotaExhausted(halt.Counters, halt.Outcome, DateTimeOffset.Now, resume), target,
                halt.Outcome, "After the reset, run: " + resume);
        }

        /// <summary>PowerShell disposes the cmdlet when the pipeline ends, stopped or not: close the journal, end the lease.</summary>
        public void Dispose()
        {
            _batch?.Dispose();
            _journal?.Dispose();
            _lease?.Dispose();
        }
    }
}
