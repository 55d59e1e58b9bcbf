using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using CalStudio.Client;
using Xunit;

namespace CalStudio.Tests
{
    /// <summary>One table says what every ErrorId means; these keep the code and about_CalStudio from drifting away from it.</summary>
    public class ErrorIdTableTests
    {
        private static string Source => Path.Combine(EmulatorFixture.RepoRoot, "src", "CalStudio.PowerShell");

        private static string[] DeclaredIds() =>
            typeof(ErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static)
                .Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetRawConstantValue()).ToArray();

        [Fact]
        public void Every_declared_id_has_exactly_one_row()
        {
            var ids = DeclaredIds();
            Assert.Equal(ids.Length, ids.Distinct().Count());
            Assert.Equal(ids.OrderBy(i => i), ErrorIds.All.Select(r => r.Id).OrderBy(i => i));
            foreach (var row in ErrorIds.All) Assert.False(string.IsNullOrWhiteSpace(row.Meaning), row.Id);
        }

        [Fact]
        public void An_unknown_id_fails_fast_instead_of_falling_into_a_default_category()
        {
            var ex = Assert.Throws<ArgumentException>(() => ErrorIds.Info("NoSuchId"));
            Assert.Contains("NoSuchId", ex.Message);
        }

        [Fact]
        public void About_CalStudio_lists_every_id_once_with_its_category()
        {
            string about = File.ReadAllText(Path.Combine(Source, "help", "about_CalStudio.help.txt"));
            foreach (var row in ErrorIds.All)
            {
                var rows = Regex.Matches(about, @"^ {8}" + Regex.Escape(row.Id) + @" +(?<text>.+(\n {29}.+)*)", RegexOptions.Multiline);
                Assert.True(rows.Count == 1, row.Id + " has " + rows.Count + " rows in about_CalStudio");
                string text = Regex.Replace(rows[0].Groups["text"].Value, @"\s+", " ");
                Assert.Contains("Category: " + row.Category + ".", text);
                Assert.Equal(row.Retried, text.Contains("(retried)"));
            }
        }

        [Fact]
        public void Every_error_record_takes_its_category_from_the_table()
        {
            foreach (var file in Directory.GetFiles(Source, "*.cs", SearchOption.AllDirectories))
            {
                string code = File.ReadAllText(file);
                string name = Path.GetFileName(file);
                if (name != "ErrorIds.cs") Assert.DoesNotContain("ErrorCategory.", code);
                if (name != "CalStudioCmdlet.cs") Assert.DoesNotContain("new ErrorRecord(", code);
            }
        }

        [Theory]
        [InlineData(400, null, ErrorIds.BadRequest, OutcomeKind.Permanent)]
        [InlineData(401, null, ErrorIds.KeyRejected, OutcomeKind.KeyRejected)]
        [InlineData(403, null, ErrorIds.Forbidden, OutcomeKind.Permanent)]
        [InlineData(404, null, ErrorIds.NotFound, OutcomeKind.Permanent)]
        [InlineData(429, "rate_limit_exceeded", ErrorIds.RateLimited, OutcomeKind.Transient)]
        [InlineData(429, "daily_quota_exceeded", ErrorIds.DailyQuotaExhausted, OutcomeKind.QuotaExhausted)]
        [InlineData(502, null, ErrorIds.ServerError, OutcomeKind.Transient)]
        [InlineData(418, null, ErrorIds.UnexpectedStatus, OutcomeKind.Permanent)]
        public void A_status_maps_to_one_id_and_the_id_to_one_treatment(int status, string code, string id, OutcomeKind kind)
        {
            Assert.Equal(id, ErrorIds.ForStatus(status, code));
            Assert.Equal(kind, ErrorIds.Info(id).Kind);
        }
    }
}
