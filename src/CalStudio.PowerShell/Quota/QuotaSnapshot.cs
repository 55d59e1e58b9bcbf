using System;

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
        /// <summary>The API refused the key for the day: nothing is sent until then; null when the day is not known to be spent.</summary>
        public DateTimeOffset? DailyQuotaSpentUntil { get; set; }
        /// <summary>What pacing obeys and where it came from ("RateLimit-Policy q=10;w=3", "learned 3.3/s from 429s without headers"), or null.</summary>
        public string Obeying { get; set; }
    }
}
