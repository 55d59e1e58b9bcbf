using System.Management.Automation;
using CalStudio.Engine;

namespace CalStudio.Commands
{
    /// <summary>One progress bar per batch: counts and rate, and with -TotalCount a percentage and an ETA.</summary>
    internal sealed class BatchProgress
    {
        private readonly ProgressRecord _record = new ProgressRecord(0x5CA1, "CalStudio prompts", "Starting");

        public ProgressRecord Next(BatchCounters c, bool completed)
        {
            if (completed) { _record.RecordType = ProgressRecordType.Completed; return _record; }
            _record.StatusDescription = BatchTexts.Progress(c);
            if (BatchTexts.TryEta(c, out int percent, out int? secondsLeft))
            {
                _record.PercentComplete = percent;
                if (secondsLeft.HasValue) _record.SecondsRemaining = secondsLeft.Value;
            }
            return _record;
        }
    }
}
