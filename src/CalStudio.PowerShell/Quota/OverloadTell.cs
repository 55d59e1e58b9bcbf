using System;
using System.Threading;
using CalStudio.Client;

namespace CalStudio.Quota
{
    /// <summary>
    /// Tells apart two proxies that answer the same HTML 503 page at once: a request limiter (it follows how often
    /// requests start: the pacer's business, a refusal) and a connection limit in front of a busy app (it follows how
    /// many are on the wire: the in-flight gate's business, which cuts the level for any 5xx). A page is the app's
    /// overload when requests sent with at least as many beside them on the wire mostly fail (fewer passed than were
    /// turned away) or seldom passed (under a tenth of all passes): it neither pauses the key nor teaches the refusal
    /// learner, so a busy app is not paced down to a crawl. A page for a lone request, or at a level where answers
    /// commonly pass, is a limiter's refusal; so is every 429. Counts are this process's; thread-safe.
    /// </summary>
    internal sealed class OverloadTell
    {
        // Levels above this are counted here: they are all "many", far past any limit this would need to tell.
        private const int Levels = 64;
        // A page is the app's overload when fewer than this share of the passes went with at least as many beside them.
        private const double RareShare = 0.1;

        private readonly long[] _passesAt = new long[Levels + 1];
        private readonly long[] _pagesAt = new long[Levels + 1];
        private long _passes;
        private long _overloads;

        /// <summary>Pages this process took as the app's overload rather than a rate limiter's refusal.</summary>
        public long Overloads => Interlocked.Read(ref _overloads);

        /// <summary>
        /// Notes an answer and says what the pacer should make of it: the same outcome, or, for a 503 page that came
        /// with unusually many on the wire, the same answer as the app's overload (no longer a refusal).
        /// </summary>
        /// <param name="besideOnWire">Requests of this process on the wire when this one was sent.</param>
        public ApiOutcome Judge(ApiOutcome outcome, int besideOnWire)
        {
            int level = Math.Max(0, Math.Min(Levels, besideOnWire));
            if (outcome.IsSuccess)
            {
                Interlocked.Increment(ref _passesAt[level]);
                Interlocked.Increment(ref _passes);
                return outcome;
            }
            if (!outcome.IsRefusal || outcome.StatusCode != 503 || level == 0) return outcome;
            Interlocked.Increment(ref _pagesAt[level]);
            long passes = Interlocked.Read(ref _passes), passedHere = 0, turnedAwayHere = 0;
            for (int i = level; i <= Levels; i++)
            {
                passedHere += Interlocked.Read(ref _passesAt[i]);
                turnedAwayHere += Interlocked.Read(ref _pagesAt[i]);
            }
            if (passedHere >= turnedAwayHere && passedHere >= RareShare * passes) return outcome;
            Interlocked.Increment(ref _overloads);
            return outcome.AsOverload(level);
        }
    }
}
