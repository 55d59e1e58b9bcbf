using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using CalStudio.Client;
using CalStudio.Journal;
using CalStudio.Session;

namespace CalStudio.Commands
{
    /// <summary>
    /// Get-CalStudioResponse: this session's responses (successes and failures), oldest first; or a journal's: by default
    /// the newest entry of each row key (what is true now), with -All every entry (the history).
    /// </summary>
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

        /// <summary>Every entry of the journal (superseded ones too), instead of the newest of each row key.</summary>
        [Parameter(ParameterSetName = JournalSet)]
        public SwitchParameter All { get; set; }

        private DateTimeOffset? _since;

        protected override void EndProcessing()
        {
            if (MyInvocation.BoundParameters.ContainsKey(nameof(Since))) _since = new DateTimeOffset(Since);
            if (ParameterSetName != JournalSet) { Emit(History().Where(Kept)); return; }
            // Streamed: a journal of half a million rows is read a line at a time, filtered as it goes.
            if (All)
            {
                using (var reader = OpenJournal())
                {
                    try { Emit(reader.Entries().Where(Kept)); }
                    catch (JournalException ex) { Terminate(ex.ErrorId, ex.Message, JournalPath, cause: ex); }
                    if (reader.Warning != null) WriteWarning(reader.Warning);
                }
                return;
            }
            // -AppName and -Since choose the entries first (one pass of several sharing the journal), then the newest per key.
            try { Emit(LatestEntries.Read(OpenJournal, Kept, WriteWarning)); }
            catch (JournalException ex) { Terminate(ex.ErrorId, ex.Message, JournalPath, cause: ex); }
        }

        private bool Kept(Response r) =>
            (AppName == null || string.Equals(r.AppName, AppName, StringComparison.OrdinalIgnoreCase)) && (_since == null || r.CompletedAt >= _since.Value);

        /// <summary>-Failed and -Last, after the choice of entries: with the newest per key, -Failed lists keys still failing.</summary>
        private void Emit(IEnumerable<Response> items)
        {
            if (Failed) items = items.Where(r => !r.Success);
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
