using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using CalStudio.Client;
using CalStudio.Quota;

namespace CalStudio.Engine
{
    /// <summary>What a batch tells the user in words: halts, the resume command, progress and the -WhatIf estimate.</summary>
    internal static class BatchTexts
    {
        public static string KeyRejected(ApiOutcome cause) =>
            "The API rejected the key, so the batch stopped: every other row would fail the same way. " + (cause?.ErrorMessage ?? "");

        /// <summary>A proxy's 407 stops the batch as a rejected key does (StopReason.KeyRejected), but the words are the proxy's.</summary>
        public static string ProxyRefused(ApiOutcome cause) =>
            (cause?.ErrorMessage ?? "The proxy refused the request with HTTP 407.") + " The batch stopped: every other row would be refused the same way.";

        public const string ProxyRefusedAction = "Connect-CalStudio again with -ProxyCredential (Get-Credential) for the proxy, then run the batch again.";

        public const string KeyRejectedAction = "Check the key with Connect-CalStudio (Get-CalStudioConnection shows its last characters), then run the batch again.";

        public static string QuotaExhausted(BatchCounters c, ApiOutcome cause, DateTimeOffset now, string resume)
        {
            DateTimeOffset? resetAt = cause?.RetryAfter.HasValue == true ? now + cause.RetryAfter.Value : (DateTimeOffset?)null;
            return string.Format(CultureInfo.InvariantCulture,
                "The daily quota is spent: {0} rows done ({1} answered, {2} failed), {3} rows not sent. The quota resets {4}. {5} To resume, run: {6}",
                c.Done, c.Succeeded, c.Failed, c.NotSent,
                resetAt.HasValue ? "at " + LocalTime(resetAt.Value) : "at the plan's next day",
                cause?.ErrorMessage, resume);
        }

        public static string ApiUnreachable(BatchCounters c, ApiOutcome cause, string resume) =>
            string.Format(CultureInfo.InvariantCulture,
                "{0} The batch stopped: {1} rows done ({2} answered, {3} failed), {4} rows not sent (not journaled as failures). To resume, run: {5}",
                cause?.ErrorMessage, c.Done, c.Succeeded, c.Failed, c.NotSent, resume);

        /// <summary>
        /// The same command, from the parameters the user bound on the command line: never the raw line, which may hold
        /// a key typed into another command of the same pipeline. Values that are not plain text or numbers are left out.
        /// </summary>
        public static string ResumeCommand(string commandName, IEnumerable<KeyValuePair<string, object>> bound, ICollection<string> ownParameters, bool hasJournal)
        {
            var sb = new StringBuilder("<the same input> | ").Append(commandName);
            foreach (var p in bound.Where(p => ownParameters.Contains(p.Key)).OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase))
            {
                string value = Literal(p.Value);
                if (value == null) continue;
                sb.Append(" -").Append(p.Key);
                if (value.Length > 0) sb.Append(' ').Append(value);
            }
            if (!hasJournal) sb.Append("   (add -JournalPath <file>, so a rerun skips the rows already answered)");
            return sb.ToString();
        }

        private static string Literal(object value)
        {
            if (value is System.Management.Automation.PSObject ps) value = ps.BaseObject;
            switch (value)
            {
                case System.Management.Automation.SwitchParameter s: return s.IsPresent ? "" : null;
                case bool b: return b ? "" : null;
                case string text: return "'" + text.Replace("'", "''") + "'";
                case string[] list: return list.Length == 0 ? null : string.Join(", ", list.Select(item => Literal(item))); // -KeyProperty 'TicketId', 'AppName'
                case int _: case long _: case double _: return Convert.ToString(value, CultureInfo.InvariantCulture);
                default: return null;
            }
        }

        /// <summary>A time as the user's clock shows it, with the offset, so it is never mistaken for UTC or the other way round.</summary>
        public static string LocalTime(DateTimeOffset time) => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture);

        public static string Progress(BatchCounters c) =>
            string.Format(CultureInfo.InvariantCulture, "{0} done, {1} failed, {2} per minute", c.Succeeded, c.Failed, BatchCounters.Rate(c.PerMinute));

        /// <summary>Percent done and seconds left, when -TotalCount gave the total; nulls otherwise.</summary>
        public static bool TryEta(BatchCounters c, out int percent, out int? secondsLeft)
        {
            percent = 0;
            secondsLeft = null;
            if (!(c.Total > 0)) return false;
            percent = (int)Math.Min(100, c.Done * 100 / c.Total.Value);
            double perSecond = c.PerMinute / 60;
            if (perSecond > 0) secondsLeft = (int)Math.Max(0, (c.Total.Value - c.Done) / perSecond);
            return true;
        }

        /// <param name="dayResets">When today's local count starts again (the next UTC midnight); shown in local time with its offset.</param>
        /// <param name="reaskBound">-ResponseFormat Json: at most this many re-asks on top; <paramref name="reaskEstimate"/>: as many at the rate seen so far.</param>
        public static string WhatIf(long seen, long toSend, long fromJournal, long refused, bool hasJournal, int? leftToday, int? perMinute, DateTimeOffset dayResets,
                                    long reaskBound = 0, long? reaskEstimate = null)
        {
            var sb = new StringBuilder();
            long requests = toSend + reaskBound;
            if (reaskBound > 0)
                sb.Append("Send up to ").Append(requests).Append(" requests to CalStudio: ").Append(toSend).Append(" of ").Append(seen)
                  .Append(" prompts and at most ").Append(reaskBound).Append(" re-asks")
                  .Append(reaskEstimate.HasValue ? ", about " + reaskEstimate.Value + " at the re-ask rate seen so far" : "");
            else sb.Append("Send ").Append(toSend).Append(" of ").Append(seen).Append(" prompts to CalStudio");
            var notes = new List<string>();
            if (hasJournal) notes.Add(fromJournal + " already answered in the journal");
            if (refused > 0) notes.Add(refused + " refused before sending (no prompt, bad key or URL)");
            if (notes.Count > 0) sb.Append(" (").Append(string.Join("; ", notes)).Append(')');
            string upTo = reaskBound > 0 ? "up to " : "";
            if (leftToday.HasValue && requests <= leftToday.Value) sb.Append("; that uses ").Append(upTo).Append(requests).Append(" of today's ").Append(leftToday.Value).Append(" remaining requests");
            else if (leftToday.HasValue)
                sb.Append("; ").Append(leftToday.Value).Append(" fit in today's remaining ").Append(leftToday.Value).Append(", ").Append(upTo).Append(requests - leftToday.Value)
                  .Append(" wait for the reset at ").Append(LocalTime(dayResets));
            if (perMinute > 0) sb.Append("; about ").Append(Math.Ceiling(requests / (double)perMinute.Value)).Append(" min at ").Append(perMinute).Append(" requests/minute");
            return sb.ToString();
        }
    }

    /// <summary>-WhatIf: counts what a run would send, with the same checks a real run makes, and sends nothing.</summary>
    internal sealed class WhatIfEstimate
    {
        private readonly RowKeys _keys;
        private readonly Journal.JournalFile _journal;
        private readonly Answers.IAnswerStage _answers;
        private long _seen, _fromJournal, _refused, _repeats, _journaledJson, _journaledReasks;

        public WhatIfEstimate(bool keyed, Journal.JournalFile journal, Answers.IAnswerStage answers = null)
        {
            _keys = new RowKeys(keyed, journal != null);
            _journal = journal;
            _answers = answers ?? Answers.TextAnswerStage.Instance;
        }

        public void Count(RowInput row)
        {
            _seen++;
            var keyRefused = _keys.Check(row, out bool repeat);
            if (repeat) { _repeats++; return; } // answered with the earlier row of its key and request
            if ((keyRefused ?? row.Validate()) != null) { _refused++; return; }
            if (_journal == null || _journal.Lookup(row.RowKey, row.Fingerprint, out Response earlier) != Journal.JournalMatch.Answered) return;
            if (earlier.AnswerSchema != null) { _journaledJson++; _journaledReasks += earlier.Reasks; } // the re-ask rate seen so far
            if (_answers.Reuse(earlier) != null) _fromJournal++; // the same judgement a run makes: a rejected answer is sent again
        }

        /// <summary>One read of the quota state (never a write): today's count and the known per-minute rate.</summary>
        public string Describe(RequestPacer pacer)
        {
            var quota = pacer.Snapshot();
            int? leftToday = quota.RequestsPerDay.HasValue ? Math.Max(0, quota.RequestsPerDay.Value - quota.RequestsToday) : (int?)null;
            var midnight = new DateTimeOffset(DateTimeOffset.UtcNow.UtcDateTime.Date.AddDays(1), TimeSpan.Zero); // the local count is per UTC day
            long toSend = _seen - _fromJournal - _refused - _repeats;
            long bound = _answers.MaxReasksFor(toSend);
            long? estimate = _journaledJson > 0 ? Math.Min(bound, (long)Math.Ceiling(toSend * (double)_journaledReasks / _journaledJson)) : (long?)null;
            return BatchTexts.WhatIf(_seen, toSend, _fromJournal, _refused, _journal != null, leftToday, quota.RequestsPerMinute ?? quota.Limit,
                                     midnight, bound, estimate);
        }
    }
}
