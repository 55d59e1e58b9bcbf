using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using CalStudio.Journal;
using CalStudio.Session;

namespace CalStudio.Commands
{
    /// <summary>
    /// Completes -AppName from the connection's default, the session history, and a journal named by
    /// -JournalPath on the same command line.
    /// </summary>
    public sealed class AppNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
                                                              CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var names = new List<string>();
            var session = SessionStore.Current;
            if (session?.AppName != null) names.Add(session.AppName);
            if (session != null) names.AddRange(session.History.Snapshot().Select(r => r.AppName));
            if (fakeBoundParameters != null && fakeBoundParameters["JournalPath"] is string journal && System.IO.File.Exists(journal))
            {
                try { using (var reader = JournalReader.Open(journal)) names.AddRange(reader.Entries().Select(r => r.AppName).Distinct(StringComparer.OrdinalIgnoreCase)); }
                catch (JournalException) { }
            }

            string prefix = (wordToComplete ?? "").Trim('\'', '"');
            return names
                .Where(n => !string.IsNullOrEmpty(n) && n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Distinct(StringComparer.OrdinalIgnoreCase)
                .OrderBy(n => n, StringComparer.OrdinalIgnoreCase)
                .Select(n => new CompletionResult(n.IndexOf(' ') >= 0 ? "'" + n.Replace("'", "''") + "'" : n, n, CompletionResultType.ParameterValue, n));
        }
    }
}
