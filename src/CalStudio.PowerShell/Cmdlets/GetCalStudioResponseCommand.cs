using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using CalStudio.Client;
using CalStudio.Journal;
using CalStudio.Session;

namespace CalStudio.Commands
{
    /// <summary>Get-CalStudioResponse: this session's responses (successes and failures), or a journal's, oldest first.</summary>
    [Cmdlet(VerbsCommon.Get, "CalStudioResponse", DefaultParameterSetName = SessionSet)]
    [OutputType(typeof(Response))]
    public sealed class GetCalStudioResponseCommand : CalStudioCmdlet
    {
        private const string SessionSet = "Session";
        private const string JournalSet = "Journal";
        public const string HistoryTypeName = "CalStudio.Response#History";

        [Parameter]
        [ArgumentCompleter(typeof(AppNameCompleter))]
        public string AppName { get; set; }

        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int Last { get; set; }

        [Parameter]
        public SwitchParameter Failed { get; set; }

        [Parameter]
        public DateTime Since { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = JournalSet)]
        [ValidateNotNullOrEmpty]
        public string JournalPath { get; set; }

        protected override void EndProcessing()
        {
            if (ParameterSetName != JournalSet) { Emit(History()); return; }
            using (var reader = OpenJournal())
            {
                // Streamed: a journal of half a million rows is read a line at a time, filtered as it goes.
                try { Emit(reader.Entries()); }
                catch (JournalException ex) { Terminate(ex.ErrorId, ex.Message, JournalPath, cause: ex); }
                if (reader.Warning != null) WriteWarning(reader.Warning);
            }
        }

        private void Emit(IEnumerable<Response> items)
        {
            if (AppName != null) items = items.Where(r => string.Equals(r.AppName, AppName, StringComparison.OrdinalIgnoreCase));
            if (Failed) items = items.Where(r => !r.Success);
            if (MyInvocation.BoundParameters.ContainsKey(nameof(Since)))
            {
                var since = new DateTimeOffset(Since);
                items = items.Where(r => r.CompletedAt >= since);
            }
            if (Last == 0) { foreach (var response in items) Write(response); return; }

            var lastN = new Queue<Response>(Math.Min(Last, 1024)); // only the newest N are kept while reading
            foreach (var response in items)
            {
                if (lastN.Count == Last) lastN.Dequeue();
                lastN.Enqueue(response);
            }
            foreach (var response in lastN) Write(response);
        }

        private void Write(Response response)
        {
            // Its own view name: a history table shows when and how each row ended, the answer table does not.
            var item = new PSObject(response);
            item.TypeNames.Insert(0, HistoryTypeName);
            WriteObject(item);
        }

        private IEnumerable<Response> History()
        {
            var session = SessionStore.Current;
            return session == null ? Enumerable.Empty<Response>() : session.History.Snapshot();
        }

        private JournalReader OpenJournal()
        {
            try { return JournalReader.Open(GetUnresolvedProviderPathFromPSPath(JournalPath)); }
            catch (JournalException ex) { Terminate(ex.ErrorId, ex.Message, JournalPath, cause: ex); return null; }
        }
    }
}
