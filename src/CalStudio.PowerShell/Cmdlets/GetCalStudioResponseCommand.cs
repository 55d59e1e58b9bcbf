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
            IEnumerable<Response> items = ParameterSetName == JournalSet ? ReadJournal() : History();
            if (AppName != null) items = items.Where(r => string.Equals(r.AppName, AppName, StringComparison.OrdinalIgnoreCase));
            if (Failed) items = items.Where(r => !r.Success);
            if (MyInvocation.BoundParameters.ContainsKey(nameof(Since)))
            {
                var since = new DateTimeOffset(Since);
                items = items.Where(r => r.CompletedAt >= since);
            }
            var list = items.ToList();
            if (Last > 0 && list.Count > Last) list = list.GetRange(list.Count - Last, Last);
            foreach (var response in list)
            {
                // Its own view name: a history table shows when and how each row ended, the answer table does not.
                var item = new PSObject(response);
                item.TypeNames.Insert(0, HistoryTypeName);
                WriteObject(item);
            }
        }

        private IEnumerable<Response> History()
        {
            var session = SessionStore.Current;
            return session == null ? Enumerable.Empty<Response>() : session.History.Snapshot();
        }

        private IEnumerable<Response> ReadJournal()
        {
            string path = GetUnresolvedProviderPathFromPSPath(JournalPath);
            if (!System.IO.File.Exists(path))
                Terminate(ErrorIds.JournalUnreadable, "There is no journal at '" + path + "'.", JournalPath);
            JournalContents contents = null;
            try { contents = JournalFile.Read(path); }
            catch (JournalException ex) { Terminate(ex.ErrorId, ex.Message, JournalPath, cause: ex); }
            foreach (var warning in contents.Warnings) WriteWarning(warning);
            return contents.Entries;
        }
    }
}
