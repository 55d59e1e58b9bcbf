using CalStudio.Client;
using CalStudio.Quota;
using Xunit;

namespace CalStudio.Tests
{
    /// <summary>
    /// A proxy's immediate HTML 503 page is either a request limiter's refusal (the start rate) or a connection limit in
    /// front of a busy app (the number on the wire). The tell looks at how many were on the wire beside each answer.
    /// </summary>
    public class OverloadTellTests
    {
        private static readonly ApiOutcome Pass = new ApiOutcome { Kind = OutcomeKind.Success, StatusCode = 200 };
        private static readonly ApiOutcome Page = new ApiOutcome { Kind = OutcomeKind.Transient, StatusCode = 503, ErrorId = ErrorIds.RateLimited, IsRefusal = true };
        private static readonly ApiOutcome Bare429 = new ApiOutcome { Kind = OutcomeKind.Transient, StatusCode = 429, ErrorId = ErrorIds.RateLimited, IsRefusal = true };

        private static OverloadTell Passed(params int[] levels)
        {
            var tell = new OverloadTell();
            foreach (int level in levels) Assert.Same(Pass, tell.Judge(Pass, level));
            return tell;
        }

        [Fact]
        public void A_page_with_more_on_the_wire_than_answers_pass_with_is_the_apps_overload()
        {
            // An app behind a proxy that takes 8 at a time: answers pass with 0 to 7 beside them, the 9th is turned away.
            var tell = Passed(0, 1, 2, 3, 4, 5, 6, 7, 7, 7, 6, 7, 5, 7, 7, 6, 7, 7, 7, 7);
            var judged = tell.Judge(Page, 8);
            Assert.False(judged.IsRefusal);
            Assert.Equal(ErrorIds.ServerError, judged.ErrorId);
            Assert.Equal(503, judged.StatusCode);
            Assert.Contains("8 other requests on the wire", judged.ErrorMessage);
            Assert.Equal(1, tell.Overloads);
        }

        [Fact]
        public void A_rare_pass_at_the_edge_does_not_make_the_overload_a_refusal()
        {
            // An answer overtaken on its way back lets one pass with 8 beside it now and then: 1 of 30 passes.
            var tell = Passed(0, 1, 2, 3, 4, 5, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 6, 5, 5, 5, 4, 8);
            Assert.False(tell.Judge(Page, 8).IsRefusal);
            Assert.False(tell.Judge(Page, 9).IsRefusal);
        }

        [Fact]
        public void Where_more_were_turned_away_than_passed_pages_stay_the_apps_overload()
        {
            // A loaded client reads its answers late, so passes with 8 beside them grow common (5 of 45): still, at that
            // level more were turned away than passed.
            var tell = new OverloadTell();
            for (int level = 0; level < 8; level++) for (int i = 0; i < 5; i++) tell.Judge(Pass, level);
            for (int i = 0; i < 5; i++) { tell.Judge(Pass, 8); tell.Judge(Page, 8); }
            Assert.False(tell.Judge(Page, 8).IsRefusal);
            Assert.True(tell.Judge(Page, 6).IsRefusal); // where answers commonly pass, a page is a limiter's
        }

        [Fact]
        public void A_page_with_as_many_on_the_wire_as_answers_pass_with_is_a_limiters_refusal()
        {
            // Four at a time (the default with no rate known): a spent limiter turns away the 11th with the same 3 beside it.
            var tell = Passed(0, 1, 2, 3, 3, 3, 3, 3, 3, 3);
            Assert.Same(Page, tell.Judge(Page, 3));
            Assert.Same(Page, tell.Judge(Page, 2));
            Assert.Equal(0, tell.Overloads);
        }

        [Fact]
        public void A_lone_request_turned_away_is_a_refusal_whatever_passed_before()
        {
            var tell = Passed(5, 6, 7, 7, 7, 7, 7, 7);
            Assert.Same(Page, tell.Judge(Page, 0));
        }

        [Fact]
        public void Before_anything_passed_only_a_lone_requests_page_is_a_refusal()
        {
            // The first answer of a busy app's batch passed alone; the next ones, sent together, meet its connection limit.
            var tell = Passed(0);
            Assert.False(tell.Judge(Page, 8).IsRefusal);
            // A limiter spent before the batch began turns away a lone request too.
            Assert.Same(Page, new OverloadTell().Judge(Page, 0));
        }

        [Fact]
        public void A_429_is_always_a_refusal()
        {
            var tell = Passed(0, 1, 2, 3, 4, 5, 6, 7, 7, 7);
            Assert.Same(Bare429, tell.Judge(Bare429, 12));
        }

        [Fact]
        public void After_a_limiter_burst_cut_by_the_gate_pages_at_levels_that_passed_are_refusals()
        {
            // -ThrottleLimit 16 into a limiter of 10: the first pages come with 10 to 15 beside them (taken as overload, so the
            // gate cuts), the next with fewer, where passes are common: the limiter is recognised.
            var tell = Passed(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
            Assert.False(tell.Judge(Page, 12).IsRefusal);
            Assert.True(tell.Judge(Page, 7).IsRefusal);
        }
    }
}
