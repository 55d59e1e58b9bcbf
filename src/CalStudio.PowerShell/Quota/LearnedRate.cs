using System;
using System.Globalization;
using System.Linq;

namespace CalStudio.Quota
{
    /// <summary>
    /// The rate <see cref="RefusalRateLearner"/> found, kept in the shared state (one tagged token, so a state file
    /// without it reads as "nothing learned"). Times are UTC ticks; 0 means not yet.
    /// </summary>
    internal sealed class LearnedRate
    {
        public const string Tag = "learned:";

        /// <summary>Ticks between starts that the limiter lets through; 0 while nothing is learned.</summary>
        public long Spacing;
        /// <summary>What taught it: 1 for 429s without headers, 2 for a proxy's 503 pages.</summary>
        public long From;
        /// <summary>Before a rate is known: the first start of the burst the limiter cut, and how many of it passed.</summary>
        public long BurstStart;
        public long BurstPassed;
        /// <summary>The first refusal: requests passed since then over the time since then is the rate the limiter kept.</summary>
        public long RefusedAt;
        public long PassedSince;
        /// <summary>Before a rate is known: the next probe (one request at a time) and the gap after a refused one.</summary>
        public long ProbeAt;
        public long ProbeGap;
        /// <summary>When the rate was last set or cut, the passes since, and the spacing that was refused then (0: unknown).</summary>
        public long CutAt;
        public long PassedSinceCut;
        public long RefusedSpacing;
        /// <summary>The spacing the learner last decided (the probe's estimate or a cut), before the creep: where a new process starts.</summary>
        public long DecidedSpacing;

        private long[] Fields() => new[] { Spacing, From, BurstStart, BurstPassed, RefusedAt, PassedSince, ProbeAt, ProbeGap, CutAt, PassedSinceCut, RefusedSpacing, DecidedSpacing };

        public string Serialize() => Tag + string.Join("/", Fields().Select(v => v.ToString(CultureInfo.InvariantCulture)));

        /// <summary>Reads <see cref="Serialize"/>'s text after the tag; anything unreadable is "nothing learned".</summary>
        public static LearnedRate Parse(string text)
        {
            var parts = (text ?? "").Split('/');
            long Part(int i) => i < parts.Length && long.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) && v >= 0 ? v : 0;
            return new LearnedRate
            {
                Spacing = Part(0), From = Part(1), BurstStart = Part(2), BurstPassed = Part(3), RefusedAt = Part(4), PassedSince = Part(5),
                ProbeAt = Part(6), ProbeGap = Part(7), CutAt = Part(8), PassedSinceCut = Part(9), RefusedSpacing = Part(10), DecidedSpacing = Part(11),
            };
        }

        /// <summary>Refusals without hints have been seen: the learner paces, or searches for the rate.</summary>
        public bool Engaged => Spacing > 0 || RefusedAt > 0;
    }
}
