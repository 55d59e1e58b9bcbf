using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using CalStudio.Client;

namespace CalStudio.Quota
{
    /// <summary>What the pacer knows of the quota, for Get-CalStudioConnection and -WhatIf.</summary>
    public sealed class QuotaSnapshot
    {
        public int? RequestsPerMinute { get; set; }
        public int? RequestsPerDay { get; set; }
        public int? Limit { get; set; }
        public int? Remaining { get; set; }
        public DateTimeOffset? Reset { get; set; }
        public int RequestsToday { get; set; }
    }

    /// <summary>
    /// Decides when the next request may start so a batch stays under the plan before the API refuses it:
    /// the configured requests per minute (evenly spaced), the configured requests per day, the X-RateLimit-*
    /// headers of the last answers (the window's remaining requests spread over the time to its reset), and
    /// any 429's Retry-After, which pauses every request on the key. State lives in a <see cref="SharedBudget"/>
    /// file so every runspace and process using the key shares it. With no limit configured and no rate-limit
    /// header ever seen, requests go straight through without touching the file.
    /// </summary>
    internal sealed class RequestPacer : CalStudio.Engine.IPacer
    {
        private static readonly TimeSpan WindowMargin = TimeSpan.FromMilliseconds(100);
        // Headers whose reset is further away than this describe a daily quota, which stops a batch instead of pacing it.
        private static readonly TimeSpan LongestWindow = TimeSpan.FromMinutes(5);
        private readonly int? _perMinute;
        private readonly int? _perDay;
        private readonly SharedBudget _budget;
        private volatile bool _limitsSeen;

        public RequestPacer(SharedBudget budget, int? perMinute, int? perDay)
        {
            _budget = budget;
            _perMinute = perMinute;
            _perDay = perDay;
        }

        public static RequestPacer Create(ApiKey key, Uri baseUri, int? perMinute, int? perDay)
        {
            string name = key.Fingerprint(baseUri.GetLeftPart(UriPartial.Authority));
            return new RequestPacer(new SharedBudget(Path.Combine(SharedBudget.DefaultFolder(), name + ".budget")), perMinute, perDay);
        }

        /// <summary>The rate this pacer may use, for the in-flight gate; null when unknown. (Minimal: the configured per-minute rate.)</summary>
        public double? AllowedPerSecond => _perMinute / 60.0;

        private bool Active => _perMinute.HasValue || _perDay.HasValue || _limitsSeen;

        /// <summary>Waits for this request's turn; returns a QuotaExhausted outcome instead when today's local count is spent.</summary>
        public async Task<ApiOutcome> WaitTurnAsync(CancellationToken cancel)
        {
            while (Active)
            {
                var decision = await _budget.UpdateAsync(state => Decide(state, DateTimeOffset.UtcNow), cancel).ConfigureAwait(false);
                if (decision.Denied != null) return decision.Denied;
                if (decision.Wait <= TimeSpan.Zero) return null;
                await Task.Delay(decision.Wait, cancel).ConfigureAwait(false);
                if (decision.Reserved) return null;
            }
            return null;
        }

        private struct Decision
        {
            public TimeSpan Wait;
            public bool Reserved;
            public ApiOutcome Denied;
        }

        private Decision Decide(BudgetState s, DateTimeOffset now)
        {
            long t = now.UtcTicks;
            int today = Today(now);
            if (s.Day != today) { s.Day = today; s.DayCount = 0; }

            if (_perDay.HasValue && s.DayCount >= _perDay.Value)
            {
                var midnight = new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
                var denied = ApiOutcome.Failure(ErrorIds.DailyQuotaExhausted, 0,
                    "Today's " + _perDay.Value + " requests (-RequestsPerDay) are used up on this machine.").WithHeaders(null, null, midnight - now);
                return new Decision { Denied = denied };
            }

            if (s.PauseUntil > t) return new Decision { Wait = TimeSpan.FromTicks(s.PauseUntil - t) };

            if (s.WindowReset != 0 && s.WindowReset <= t)
            {
                // The window has turned: assume it is full again until the next answer says otherwise.
                s.WindowLeft = s.WindowLimit;
                s.WindowReset = 0;
            }
            if (s.WindowReset > t && s.WindowLimit > 0)
            {
                if (s.WindowLeft <= 0) return new Decision { Wait = TimeSpan.FromTicks(s.WindowReset - t) + WindowMargin };
                long spacing = (s.WindowReset - t) / (s.WindowLeft + 1);
                if (s.LastStart + spacing > t) return new Decision { Wait = TimeSpan.FromTicks(s.LastStart + spacing - t) };
            }

            long start = t;
            if (_perMinute.HasValue)
            {
                start = Math.Max(t, s.NextSlot);
                s.NextSlot = start + TimeSpan.FromMinutes(1).Ticks / _perMinute.Value;
            }
            s.DayCount++;
            s.LastStart = start;
            if (s.WindowLimit > 0) s.WindowLeft--;
            return new Decision { Wait = TimeSpan.FromTicks(start - t), Reserved = true };
        }

        /// <summary>Learns from an answer: rate-limit headers, and a 429's Retry-After as a pause for every request.</summary>
        public void Observe(ApiOutcome outcome)
        {
            if (outcome == null) return;
            var limits = outcome.RateLimit;
            bool rateLimited = outcome.StatusCode == 429 && outcome.Kind == OutcomeKind.Transient;
            if (outcome.Kind == OutcomeKind.QuotaExhausted) return;
            if (limits?.Remaining == null && !rateLimited) return;
            _limitsSeen = true;
            _budget.Update(s =>
            {
                long now = DateTimeOffset.UtcNow.UtcTicks;
                if (limits?.Remaining != null && limits.Reset.HasValue)
                {
                    long reset = limits.Reset.Value.UtcTicks;
                    if (reset - now > LongestWindow.Ticks) return false;
                    if (reset != s.WindowReset && reset > now)
                    {
                        s.WindowReset = reset;
                        s.WindowLeft = limits.Remaining.Value;
                    }
                    else if (reset == s.WindowReset)
                        s.WindowLeft = Math.Min(s.WindowLeft, limits.Remaining.Value);
                    s.WindowLimit = limits.Limit ?? Math.Max(s.WindowLimit, limits.Remaining.Value);
                }
                if (rateLimited)
                {
                    long pause = now + (outcome.RetryAfter ?? TimeSpan.FromSeconds(1)).Ticks;
                    s.PauseUntil = Math.Max(s.PauseUntil, pause);
                    s.WindowLeft = 0;
                }
                return true;
            });
        }

        public QuotaSnapshot Snapshot()
        {
            var snapshot = new QuotaSnapshot { RequestsPerMinute = _perMinute, RequestsPerDay = _perDay };
            var s = _budget.Read(); // never writes the file
            var now = DateTimeOffset.UtcNow;
            snapshot.RequestsToday = s.Day == Today(now) ? s.DayCount : 0;
            if (s.WindowLimit > 0)
            {
                snapshot.Limit = s.WindowLimit;
                snapshot.Remaining = s.WindowReset > now.UtcTicks ? Math.Max(0, s.WindowLeft) : s.WindowLimit;
                snapshot.Reset = s.WindowReset > 0 ? new DateTimeOffset(s.WindowReset, TimeSpan.Zero) : (DateTimeOffset?)null;
            }
            return snapshot;
        }

        /// <summary>A command starts: see <see cref="SharedBudget.Check"/>.</summary>
        public void CheckStateFile() => _budget.Check();

        /// <summary>The budget's warning that the state file is unusable, once; the cmdlets write it.</summary>
        public bool TryTakeWarning(out string warning) => _budget.TryTakeWarning(out warning);

        /// <summary>Requests still allowed today by -RequestsPerDay, or null without a daily limit.</summary>
        public int? RemainingToday()
        {
            if (!_perDay.HasValue) return null;
            return Math.Max(0, _perDay.Value - Snapshot().RequestsToday);
        }

        private static int Today(DateTimeOffset now) => now.UtcDateTime.Year * 10000 + now.UtcDateTime.Month * 100 + now.UtcDateTime.Day;
    }
}
