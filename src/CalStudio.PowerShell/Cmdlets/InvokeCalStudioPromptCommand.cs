using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using CalStudio.Client;
using CalStudio.Engine;
using CalStudio.Journal;
using CalStudio.Session;

namespace CalStudio.Commands
{
    /// <summary>
    /// Invoke-CalStudioPrompt: sends prompts (strings, or rows with a Prompt column) to a CalStudio app and emits
    /// one CalStudio.Response per answer, in input order, with the row's own columns carried along.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "CalStudioPrompt", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(Response))]
    public sealed class InvokeCalStudioPromptCommand : CalStudioCmdlet, IBatchHost, IDisposable
    {
        private static readonly HashSet<string> OwnProperties = new HashSet<string>(
            typeof(Response).GetProperties().Select(p => p.Name), StringComparer.OrdinalIgnoreCase);

        private CalStudioSession _session;
        private PromptBatch _batch;
        private JournalFile _journal;
        private long _index;
        private bool _whatIf;
        private bool _mayConfirm;
        private long _whatIfFromJournal;
        private ProgressRecord _progress;
        private bool _showProgress;

        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Question", "Text", "Input")]
        [AllowNull, AllowEmptyString]
        public string Prompt { get; set; }

        /// <summary>The pipeline object: a string is the prompt; an object's other properties are carried to the output.</summary>
        [Parameter(ValueFromPipeline = true)]
        [AllowNull]
        public PSObject InputObject { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("App")]
        [AllowNull, AllowEmptyString]
        [ArgumentCompleter(typeof(AppNameCompleter))]
        public string AppName { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("Url", "File")]
        [AllowNull, AllowEmptyString]
        public string FileUrl { get; set; }

        [Parameter]
        [ValidateRange(1, 256)]
        public int ThrottleLimit { get; set; }

        [Parameter]
        [ValidateRange(0, 20)]
        public int MaxRetries { get; set; }

        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSec { get; set; }

        [Parameter]
        [ValidateRange(0, long.MaxValue)]
        public long TotalCount { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string JournalPath { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string KeyProperty { get; set; }

        protected override void BeginProcessing()
        {
            _session = RequireSession();
            var bound = MyInvocation.BoundParameters;
            var retry = _session.Retry.With(
                bound.ContainsKey(nameof(MaxRetries)) ? MaxRetries : (int?)null,
                bound.ContainsKey(nameof(TimeoutSec)) ? TimeoutSec : (int?)null);
            int? throttle = bound.ContainsKey(nameof(ThrottleLimit)) ? ThrottleLimit : _session.ThrottleLimit;

            if (JournalPath != null)
            {
                try { _journal = JournalFile.Open(GetUnresolvedProviderPathFromPSPath(JournalPath), KeyProperty); }
                catch (JournalException ex) { Terminate(ex.ErrorId, ErrorCategory.InvalidData, ex.Message, JournalPath); }
                foreach (var warning in _journal.Warnings) WriteWarning(warning);
            }

            _whatIf = bound.TryGetValue("WhatIf", out object w) ? ((SwitchParameter)w).IsPresent
                : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));
            // Asking ShouldProcess per row costs a message and a preference lookup each time; only do it when a prompt can result.
            _mayConfirm = bound.ContainsKey("Confirm") || (GetVariableValue("ConfirmPreference") is ConfirmImpact c && c <= ConfirmImpact.Low);
            _showProgress = HostShowsProgress();
            _batch = new PromptBatch(_session, retry, throttle, _journal, this);
            if (bound.ContainsKey(nameof(TotalCount))) _batch.Counters.Total = TotalCount;
        }

        protected override void ProcessRecord()
        {
            var row = BindRow();
            if (_whatIf) { CountWhatIf(row); return; }
            if (_mayConfirm && !ShouldProcess(Describe(row), "Send prompt to CalStudio")) return;
            Run(() => _batch.Add(row));
        }

        protected override void EndProcessing()
        {
            if (_whatIf) { ReportWhatIf(); return; }
            Run(() => _batch.Complete());
        }

        protected override void StopProcessing() => _batch?.Stop();

        private void Run(Action step)
        {
            try { step(); }
            catch (BatchHaltedException halt) { ThrowHalt(halt); }
            catch (OperationCanceledException) when (_batch.StopToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
        }

        private RowInput BindRow()
        {
            var row = new RowInput { Index = _index++, Row = (object)InputObject ?? Prompt };
            var bound = MyInvocation.BoundParameters;
            string prompt = Prompt;
            // A piped string is the prompt itself; a piped object supplies Prompt through its properties.
            if (!bound.ContainsKey(nameof(Prompt)) && InputObject?.BaseObject is string text) prompt = text;
            row.Prompt = prompt;
            row.AppName = string.IsNullOrEmpty(AppName) ? _session.AppName : AppName;
            row.FileUrl = string.IsNullOrEmpty(FileUrl) ? null : FileUrl;
            if (KeyProperty != null) row.KeyValue = KeyOf(InputObject);
            return row;
        }

        private string KeyOf(PSObject input)
        {
            var value = input?.Properties[KeyProperty]?.Value;
            return value == null ? null : "key:" + LanguagePrimitives.ConvertTo<string>(value);
        }

        private static string Describe(RowInput row) =>
            "'" + ResponseParser.Shorten(row.Prompt ?? "", 60) + "' (app " + (row.AppName ?? "none") + ")";

        // ---- IBatchHost: called on the pipeline thread only ----

        void IBatchHost.WriteAnswer(Response response, RowInput row) => WriteObject(Decorate(response, row));

        void IBatchHost.WriteRowError(Response failed, ApiOutcome outcome, RowInput row)
        {
            string where = "Row " + (row.Index + 1) + ": ";
            WriteError(Record(failed.ErrorId, CategoryOf(failed.ErrorId), where + failed.ErrorMessage, row.Row, outcome));
        }

        void IBatchHost.WriteNote(string message) => WriteVerbose(message);

        void IBatchHost.WriteProgress(BatchCounters c, bool completed)
        {
            if (!_showProgress) return;
            if (_progress == null) _progress = new ProgressRecord(0x5CA1, "CalStudio prompts", "Starting");
            if (completed) { _progress.RecordType = ProgressRecordType.Completed; WriteProgress(_progress); return; }
            _progress.StatusDescription = string.Format(CultureInfo.InvariantCulture, "{0} done, {1} failed, {2:0} per minute",
                c.Succeeded, c.Failed, c.PerMinute);
            if (c.Total > 0)
            {
                _progress.PercentComplete = (int)Math.Min(100, c.Done * 100 / c.Total.Value);
                double perSecond = c.PerMinute / 60;
                if (perSecond > 0) _progress.SecondsRemaining = (int)Math.Max(0, (c.Total.Value - c.Done) / perSecond);
            }
            WriteProgress(_progress);
        }

        /// <summary>Wraps the response and carries the input row's own columns along (they come first, as in the CSV).</summary>
        private static PSObject Decorate(Response response, RowInput row)
        {
            var output = new PSObject(response);
            if (row.Row is PSObject input && !(input.BaseObject is string))
            {
                foreach (var property in input.Properties)
                {
                    if (OwnProperties.Contains(property.Name) || !property.IsGettable) continue;
                    if (property.MemberType != PSMemberTypes.NoteProperty && property.MemberType != PSMemberTypes.Property) continue;
                    object value;
                    try { value = property.Value; } catch (GetValueException) { continue; }
                    output.Properties.Add(new PSNoteProperty(property.Name, value));
                }
            }
            return output;
        }

        private void ThrowHalt(BatchHaltedException halt)
        {
            var outcome = halt.Outcome;
            if (outcome.Kind == OutcomeKind.KeyRejected)
                Terminate(ErrorIds.KeyRejected, ErrorCategory.AuthenticationError,
                    "The API rejected the key (HTTP " + outcome.StatusCode + "); the batch stopped, since every row would fail the same way. " +
                    outcome.ErrorMessage, halt.Row.Row, outcome,
                    "Check the key with Connect-CalStudio (Get-CalStudioConnection shows its last characters), then run the batch again.");

            var c = _batch.Counters;
            DateTimeOffset? resetAt = outcome.RetryAfter.HasValue ? DateTimeOffset.Now + outcome.RetryAfter.Value : (DateTimeOffset?)null;
            string resume = ResumeCommand();
            Terminate(ErrorIds.DailyQuotaExhausted, ErrorCategory.LimitsExceeded,
                "The daily quota is spent: " + c.Done + " rows done (" + c.Succeeded + " answered, " + c.Failed + " failed), " + c.NotSent +
                " rows not sent. The quota resets " + (resetAt.HasValue ? "at " + resetAt.Value.ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture) : "at the plan's next day") +
                ". " + outcome.ErrorMessage + " To resume, run: " + resume, halt.Row.Row, outcome,
                "After the reset, run: " + resume);
        }

        /// <summary>The same command with a journal, so a rerun sends only the rows not yet answered.</summary>
        private string ResumeCommand()
        {
            string line = MyInvocation.Line?.Trim();
            if (string.IsNullOrEmpty(line)) line = MyInvocation.MyCommand.Name;
            if (JournalPath == null)
                return line + "   (add -JournalPath <file> to this command, so a rerun skips the rows already answered)";
            return line;
        }

        private void CountWhatIf(RowInput row)
        {
            _batch.Counters.Seen++;
            if (_journal != null && row.Validate() == null && _journal.TryGetAnswered(row.RowKey, out _)) _whatIfFromJournal++;
        }

        private void ReportWhatIf()
        {
            var c = _batch.Counters;
            long toSend = c.Seen - _whatIfFromJournal;
            var quota = _session.Pacer.Snapshot();
            var sb = new System.Text.StringBuilder();
            sb.Append("Send ").Append(toSend).Append(" of ").Append(c.Seen).Append(" prompts to CalStudio");
            if (_journal != null) sb.Append(" (").Append(_whatIfFromJournal).Append(" already answered in the journal)");
            int? leftToday = _session.Pacer.RemainingToday();
            if (leftToday.HasValue) sb.Append("; that uses ").Append(toSend).Append(" of today's ").Append(leftToday.Value).Append(" remaining requests");
            int? perMinute = quota.RequestsPerMinute ?? quota.Limit;
            if (perMinute > 0) sb.Append("; about ").Append(Math.Ceiling(toSend / (double)perMinute.Value)).Append(" min at ").Append(perMinute).Append(" requests/minute");
            ShouldProcess(sb.ToString(), "Send prompts", "CalStudio");
        }

        private bool HostShowsProgress()
        {
            if (Host?.UI?.RawUI == null || ProcessIsNonInteractive()) return false;
            var preference = GetVariableValue("ProgressPreference");
            return !(preference is ActionPreference p && p == ActionPreference.SilentlyContinue) && !"SilentlyContinue".Equals(preference?.ToString());
        }

        /// <summary>PowerShell disposes the cmdlet when the pipeline ends, stopped or not: close the journal cleanly.</summary>
        public void Dispose()
        {
            _batch?.Dispose();
            _journal?.Dispose();
        }
    }
}
