using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using CalStudio.Engine;
using Xunit;

namespace CalStudio.Tests
{
    public class PromptTemplateTests
    {
        /// <summary>A row as Import-Csv makes it: a PSCustomObject with one note property per column.</summary>
        private static PSObject CsvRow(params (string column, object value)[] columns)
        {
            var row = new PSObject();
            foreach (var (column, value) in columns) row.Properties.Add(new PSNoteProperty(column, value));
            return row;
        }

        private static string RenderOrFail(string template, PSObject row)
        {
            var rendered = PromptTemplate.Parse(template).Render(row);
            Assert.True(rendered.Succeeded, rendered.Error);
            return rendered.Prompt;
        }

        [Fact]
        public void Fills_each_placeholder_from_the_row_s_columns()
        {
            var row = CsvRow(("Id", "T-7"), ("Subject", "Printer jam"), ("Body", "Tray 2 again"), ("Owner", "ana"));
            Assert.Equal("Summarise T-7 (Printer jam): Tray 2 again", RenderOrFail("Summarise {Id} ({Subject}): {Body}", row));
        }

        [Fact]
        public void Matches_column_names_case_insensitively_like_PowerShell_properties()
        {
            Assert.Equal("x=1 X=1", RenderOrFail("x={subject} X={SUBJECT}", CsvRow(("Subject", "1"))));
        }

        [Theory]
        [InlineData("{{literal}}", "{literal}")]
        [InlineData("{{{Subject}}}", "{Jam}")]
        [InlineData("a }} b {{ c", "a } b { c")]
        [InlineData("no placeholders", "no placeholders")]
        [InlineData("", "")]
        public void Doubled_braces_are_literal(string template, string expected)
        {
            Assert.Equal(expected, RenderOrFail(template, CsvRow(("Subject", "Jam"))));
        }

        [Fact]
        public void A_missing_column_fails_the_row_and_names_the_column()
        {
            var rendered = PromptTemplate.Parse("{Subject}: {Body}").Render(CsvRow(("Subject", "only a subject")));
            Assert.False(rendered.Succeeded);
            Assert.Null(rendered.Prompt);
            Assert.Equal("Body", rendered.MissingColumn);
            Assert.Equal("The template's column 'Body' is missing from the row.", rendered.Error);
        }

        [Fact]
        public void A_null_or_empty_value_renders_empty_and_is_not_missing()
        {
            Assert.Equal("[] []", RenderOrFail("[{A}] [{B}]", CsvRow(("A", null), ("B", ""))));
        }

        [Fact]
        public void Values_convert_as_PowerShell_does_independent_of_culture()
        {
            var saved = System.Globalization.CultureInfo.CurrentCulture;
            try
            {
                System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
                Assert.Equal("1.5 42 True", RenderOrFail("{D} {N} {B}", CsvRow(("D", 1.5), ("N", 42), ("B", true))));
            }
            finally { System.Globalization.CultureInfo.CurrentCulture = saved; }
        }

        [Fact]
        public void A_hashtable_row_supplies_its_keys_as_columns()
        {
            var table = new Hashtable(StringComparer.OrdinalIgnoreCase) { ["Subject"] = "VPN", ["Body"] = null };
            Assert.Equal("VPN/", RenderOrFail("{subject}/{Body}", new PSObject(table)));
            Assert.Equal("Missing", PromptTemplate.Parse("{Missing}").Render(new PSObject(table)).MissingColumn);
        }

        [Fact]
        public void No_row_at_all_lacks_every_column()
        {
            Assert.Equal("A", PromptTemplate.Parse("{A}").Render((PSObject)null).MissingColumn);
            Assert.Equal("constant", PromptTemplate.Parse("constant").Render((PSObject)null).Prompt);
        }

        [Fact]
        public void Any_column_reader_can_fill_it()
        {
            var seen = new List<string>();
            var rendered = PromptTemplate.Parse("{A}-{B}-{A}").Render((string column, out object value) =>
            {
                seen.Add(column);
                value = column.ToLowerInvariant();
                return true;
            });
            Assert.Equal("a-b-a", rendered.Prompt);
            Assert.Equal(new[] { "A", "B", "A" }, seen);
        }

        [Fact]
        public void Columns_lists_each_named_column_once_in_order()
        {
            Assert.Equal(new[] { "Subject", "Body" }, PromptTemplate.Parse("{Subject} {Body} {subject} {{Owner}}").Columns);
            Assert.Empty(PromptTemplate.Parse("plain {{text}}").Columns);
        }

        [Fact]
        public void A_column_name_may_hold_spaces_as_a_CSV_header_can()
        {
            Assert.Equal("Ana", RenderOrFail("{First Name}", CsvRow(("First Name", "Ana"))));
        }

        [Theory]
        [InlineData("Summarise {Subject", "'{' at position 11 is not closed")]
        [InlineData("Summarise {Sub{ject}", "'{' at position 11 is not closed")]
        [InlineData("Summarise Subject}", "'}' at position 18 closes no placeholder")]
        [InlineData("Summarise {}", "placeholder at position 11 names no column")]
        [InlineData("Summarise { }", "placeholder at position 11 names no column")]
        public void An_unbalanced_or_empty_placeholder_is_refused_with_its_position(string template, string expected)
        {
            var ex = Assert.Throws<ArgumentException>(() => PromptTemplate.Parse(template));
            Assert.Contains(expected, ex.Message);
            Assert.Contains("'" + template + "'", ex.Message);
        }

        [Fact]
        public void A_null_template_is_refused()
        {
            Assert.Throws<ArgumentNullException>(() => PromptTemplate.Parse(null));
        }
    }
}
