using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Text;

namespace CalStudio.Engine
{
    /// <summary>Reads one column of a row; false when the row has no such column.</summary>
    public delegate bool ColumnReader(string column, out object value);

    /// <summary>
    /// A prompt built from a row's columns: "Summarise {Subject}: {Body}". A string, so a Task Scheduler or cron command
    /// line can carry it. "{{" and "}}" are literal braces; column names match case-insensitively, as PowerShell
    /// properties do; a null value renders empty. Parsed once per batch, rendered once per row.
    /// </summary>
    public sealed class PromptTemplate
    {
        // Literal text and placeholders in order; Column is null for literal text.
        private readonly Segment[] _segments;

        private PromptTemplate(string text, Segment[] segments, string[] columns)
        {
            Text = text;
            _segments = segments;
            Columns = columns;
        }

        /// <summary>The template as given.</summary>
        public string Text { get; }

        /// <summary>The columns the template names, each once, in order of first use.</summary>
        public IReadOnlyList<string> Columns { get; }

        /// <summary>Parses a template; ArgumentException (naming the position) for an unbalanced brace or an empty "{}".</summary>
        public static PromptTemplate Parse(string template)
        {
            if (template == null) throw new ArgumentNullException(nameof(template));
            var segments = new List<Segment>();
            var columns = new List<string>();
            var literal = new StringBuilder();
            int i = 0;
            while (i < template.Length)
            {
                char c = template[i];
                if (c == '{' && At(template, i + 1, '{') || c == '}' && At(template, i + 1, '}'))
                {
                    literal.Append(c);
                    i += 2;
                    continue;
                }
                if (c == '}')
                    throw Invalid(template, "a '}' at position " + (i + 1) + " closes no placeholder; write '}}' for a literal brace.");
                if (c != '{')
                {
                    literal.Append(c);
                    i++;
                    continue;
                }

                int close = template.IndexOfAny(new[] { '{', '}' }, i + 1);
                if (close < 0 || template[close] == '{')
                    throw Invalid(template, "the '{' at position " + (i + 1) + " is not closed by a '}'; write '{{' for a literal brace.");
                string column = template.Substring(i + 1, close - i - 1);
                if (column.Trim().Length == 0)
                    throw Invalid(template, "the placeholder at position " + (i + 1) + " names no column; write a column name, as in {Subject}.");

                if (literal.Length > 0) { segments.Add(new Segment(literal.ToString(), null)); literal.Clear(); }
                segments.Add(new Segment(null, column));
                if (!columns.Exists(known => string.Equals(known, column, StringComparison.OrdinalIgnoreCase))) columns.Add(column);
                i = close + 1;
            }
            if (literal.Length > 0) segments.Add(new Segment(literal.ToString(), null));
            return new PromptTemplate(template, segments.ToArray(), columns.ToArray());
        }

        /// <summary>Fills the placeholders from <paramref name="read"/>; a column it lacks makes a failed rendering naming it.</summary>
        public RenderedPrompt Render(ColumnReader read)
        {
            if (read == null) throw new ArgumentNullException(nameof(read));
            var prompt = new StringBuilder();
            foreach (var segment in _segments)
            {
                if (segment.Column == null) { prompt.Append(segment.Literal); continue; }
                if (!read(segment.Column, out object value)) return RenderedPrompt.Missing(segment.Column);
                prompt.Append(AsText(value));
            }
            return RenderedPrompt.Of(prompt.ToString());
        }

        /// <summary>Fills the placeholders from a pipeline row: its properties (a CSV row's columns), or a dictionary's keys.</summary>
        public RenderedPrompt Render(PSObject row) => Render((string column, out object value) => TryReadColumn(row, column, out value));

        private static bool TryReadColumn(PSObject row, string column, out object value)
        {
            value = null;
            if (row == null) return false;
            // A hashtable's entries are its columns (PowerShell's own hashtables compare keys case-insensitively).
            if (row.BaseObject is IDictionary dictionary)
            {
                if (!dictionary.Contains(column)) return false;
                value = dictionary[column];
                return true;
            }
            var property = row.Properties[column];
            if (property == null || !property.IsGettable) return false;
            try { value = property.Value; }
            catch (GetValueException) { return false; }
            return true;
        }

        private static string AsText(object value)
        {
            if (value == null) return string.Empty;
            if (value is PSObject wrapped && wrapped.BaseObject == null) return string.Empty;
            // PowerShell's own conversion: invariant culture, so a number or a date reads the same on every machine.
            return LanguagePrimitives.ConvertTo<string>(value) ?? string.Empty;
        }

        private static bool At(string text, int index, char c) => index < text.Length && text[index] == c;

        private static ArgumentException Invalid(string template, string problem) =>
            new ArgumentException("The prompt template '" + template + "' cannot be used: " + problem, nameof(template));

        public override string ToString() => Text;

        private struct Segment
        {
            public Segment(string literal, string column) { Literal = literal; Column = column; }
            public readonly string Literal;
            public readonly string Column;
        }
    }

    /// <summary>A template filled from one row: the prompt, or the column the row lacks.</summary>
    public sealed class RenderedPrompt
    {
        private RenderedPrompt(string prompt, string missingColumn)
        {
            Prompt = prompt;
            MissingColumn = missingColumn;
        }

        /// <summary>The prompt; null when a column was missing.</summary>
        public string Prompt { get; }

        /// <summary>The first column the template names that the row lacks; null when the prompt was rendered.</summary>
        public string MissingColumn { get; }

        public bool Succeeded => MissingColumn == null;

        /// <summary>The InvalidPrompt message for a failed rendering; null when it succeeded.</summary>
        public string Error => MissingColumn == null ? null : "The template's column '" + MissingColumn + "' is missing from the row.";

        internal static RenderedPrompt Of(string prompt) => new RenderedPrompt(prompt, null);
        internal static RenderedPrompt Missing(string column) => new RenderedPrompt(null, column);
    }
}
