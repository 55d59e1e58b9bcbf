using System;

namespace CalStudio.Quota
{
    /// <summary>CalStudio's published plans, for Connect-CalStudio -Plan.</summary>
    public enum Plan { Free, Lite, Pro, ProPlus }

    internal static class Plans
    {
        public static int RequestsPerMinute(Plan plan)
        {
            switch (plan)
            {
                case Plan.Free: return 60;
                case Plan.Lite: return 120;
                case Plan.Pro: return 300;
                case Plan.ProPlus: return 600;
                default: throw new ArgumentOutOfRangeException(nameof(plan));
            }
        }

        public static int RequestsPerDay(Plan plan)
        {
            switch (plan)
            {
                case Plan.Free: return 1000;
                case Plan.Lite: return 5000;
                case Plan.Pro: return 25000;
                case Plan.ProPlus: return 100000;
                default: throw new ArgumentOutOfRangeException(nameof(plan));
            }
        }
    }
}
