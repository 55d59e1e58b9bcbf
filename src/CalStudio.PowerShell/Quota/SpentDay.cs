using System;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using CalStudio.Client;

namespace CalStudio.Quota
{
    /// <summary>
    /// The key's day is spent: the first process the API refuses for the day records until when in the shared state
    /// (<see cref="BudgetState.DaySpentUntil"/>), and until then every process on the key stops at once, sending
    /// nothing, instead of spending one request per slot on a certain refusal. Until when: the refusal's Retry-After,
    /// else its quota headers' Reset, else the next UTC midnight. The time passing clears it, and so does a success
    /// (a process that does not hold the mark, whose request the API answered, shows the day is open after all).
    /// A process knows of the mark from the state file at each batch start, at each paced turn, and from its own refusals.
    /// </summary>
    internal sealed class SpentDay
    {
        private static readonly TimeSpan SuccessCheckInterval = TimeSpan.FromSeconds(1);
        private readonly SharedBudget _budget;
        private readonly TimeSpan _maxRetryWait;
        private long _until; // the mark as this process last saw it (UTC ticks), 0: none
        private long _lastSuccessCheck;

        /// <param name="maxRetryWait">-MaxRetryWaitSec: a 429 asking to wait longer is a spent day (as the sender treats it).</param>
        public SpentDay(SharedBudget budget, TimeSpan maxRetryWait)
        {
            _budget = budget;
            _maxRetryWait = maxRetryWait;
        }

        /// <summary>The refusal to give instead of a request while the day is known to be spent; null when it is not.</summary>
        public ApiOutcome Refusal(DateTimeOffset now)
        {
            long until = Interlocked.Read(ref _until);
            return until > now.UtcTicks ? Refused(until, now) : null;
        }

        /// <summary>Under the state's lock (a paced turn, a batch start): learns the mark another process left; a past mark is cleared.</summary>
        public ApiOutcome Check(BudgetState s, DateTimeOffset now)
        {
            if (s.DaySpentUntil != 0 && s.DaySpentUntil <= now.UtcTicks) s.DaySpentUntil = 0;
            Interlocked.Exchange(ref _until, s.DaySpentUntil);
            return Refusal(now);
        }

        /// <summary>Reads the mark without writing (a batch starts): an unpaced batch takes no turn that would read it.</summary>
        public void Recall(BudgetState s)
        {
            if (s.DaySpentUntil > DateTimeOffset.UtcNow.UtcTicks) Interlocked.Exchange(ref _until, s.DaySpentUntil);
        }

        /// <summary>The mark for Get-CalStudioConnection; null when none is in force.</summary>
        public static DateTimeOffset? Until(BudgetState s, DateTimeOffset now) =>
            s.DaySpentUntil > now.UtcTicks ? new DateTimeOffset(s.DaySpentUntil, TimeSpan.Zero) : (DateTimeOffset?)null;

        /// <summary>Every answer: the API's daily refusal records the mark; a success (at most once a second) clears one.</summary>
        public async Task ObserveAsync(ApiOutcome outcome, CancellationToken cancel)
        {
            var now = DateTimeOffset.UtcNow;
            if (RefusesTheDay(outcome))
            {
                long until = UntilOf(outcome, now).UtcTicks;
                Interlocked.Exchange(ref _until, until);
                await _budget.UpdateAsync(s => s.DaySpentUntil = Math.Max(s.DaySpentUntil, until), cancel).ConfigureAwait(false);
                return;
            }
            // This process's own answers arriving after its refusal were sent before it: they say nothing about the day.
            if (!outcome.IsSuccess || Refusal(now) != null) return;
            long last = Interlocked.Read(ref _lastSuccessCheck);
            if (now.UtcTicks - last < SuccessCheckInterval.Ticks || Interlocked.CompareExchange(ref _lastSuccessCheck, now.UtcTicks, last) != last) return;
            Interlocked.Exchange(ref _until, 0);
            if (_budget.Read().DaySpentUntil != 0) // a read first: an unpaced key's state file is not written for nothing
                await _budget.UpdateAsync(s => s.DaySpentUntil = 0, cancel).ConfigureAwait(false);
        }

        private bool RefusesTheDay(ApiOutcome o) =>
            o.StatusCode != 0 && (o.Kind == OutcomeKind.QuotaExhausted || (o.StatusCode == 429 && o.RetryAfter > _maxRetryWait));

        private static DateTimeOffset UntilOf(ApiOutcome refusal, DateTimeOffset now)
        {
            if (refusal.RetryAfter > TimeSpan.Zero) return now + refusal.RetryAfter.Value;
            if (refusal.RateLimit?.Reset > now) return refusal.RateLimit.Reset.Value;
            return new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
        }

        private static ApiOutcome Refused(long until, DateTimeOffset now)
        {
            var at = new DateTimeOffset(until, TimeSpan.Zero);
            return ApiOutcome.Failure(ErrorIds.DailyQuotaExhausted, 0,
                    "The API refused this key for the rest of its day in an earlier run (the shared quota state remembers it until " +
                    at.ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture) + "), so nothing was sent.")
                .WithHeaders(null, null, at - now);
        }
    }
}
