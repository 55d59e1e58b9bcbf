using CalStudio.Client;

namespace CalStudio.Quota
{
    /// <summary>What <see cref="RequestPacer"/> decides for one start, under the budget's lock: wait, start, or refuse.</summary>
    internal struct PacerDecision
    {
        /// <summary>Ticks to wait; then start when Reserved, else decide again.</summary>
        public long Wait;
        public bool Reserved;
        /// <summary>Not to be sent at all (a spent day, a dead API): the row's outcome.</summary>
        public ApiOutcome Denied;
    }
}
