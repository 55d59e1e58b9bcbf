using System;
using System.Collections.Generic;

namespace CalStudio.Engine
{
    /// <summary>
    /// What a stop does with the requests already on the wire. Each is paid for once the server has it, so a stop that
    /// is not in a hurry lets them run to their answer (or their own -TimeoutSec) and journals what comes back.
    /// </summary>
    internal sealed class StopKind
    {
        /// <summary>The requests on the wire run to their answer or their own timeout: nothing paid for is thrown away.</summary>
        public static readonly StopKind Drain = new StopKind("drain", System.Threading.Timeout.InfiniteTimeSpan);

        /// <summary>A short grace, then the rest is aborted: Ctrl+C must return within 2 s, and most of that may go to
        /// letting answers already on their way arrive.</summary>
        public static readonly StopKind Grace = new StopKind("grace", TimeSpan.FromMilliseconds(800));

        // One line per reason. A rejected key (a 401, a proxy's 407, 403 for all) keeps the short grace: the requests on
        // the wire get the same refusal and end at once, but one the server answered before the key went bad is kept.
        private static readonly Dictionary<StopReason, StopKind> ByReason = new Dictionary<StopReason, StopKind>
        {
            [StopReason.Cancelled] = Grace,
            [StopReason.KeyRejected] = Grace,
            [StopReason.QuotaExhausted] = Drain,
            [StopReason.ApiUnreachable] = Drain,
            [StopReason.JournalWriteFailed] = Drain,
        };

        private StopKind(string name, TimeSpan wait)
        {
            Name = name;
            Wait = wait;
        }

        public string Name { get; }

        /// <summary>How long the requests on the wire may take before they are aborted; infinite for <see cref="Drain"/>.</summary>
        public TimeSpan Wait { get; }

        public static StopKind Of(StopReason reason) => ByReason.TryGetValue(reason, out var kind) ? kind : Grace;

        public override string ToString() => Name;
    }
}
