using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using CalStudio.Client;
using CalStudio.Engine;

namespace CalStudio.Commands
{
    /// <summary>Turns what PowerShell bound for one pipeline object into a <see cref="RowInput"/>.</summary>
    internal sealed class RowBinder
    {
        private readonly KeyColumns _keyColumns;
        private readonly string _defaultApp;
        private readonly bool _promptOnCommandLine;
        private readonly PromptTemplate _template;
        private long _index;

        public RowBinder(KeyColumns keyColumns, string defaultApp, bool promptOnCommandLine, PromptTemplate template)
        {
            _keyColumns = keyColumns;
            _defaultApp = defaultApp;
            _promptOnCommandLine = promptOnCommandLine;
            _template = template;
        }

        /// <summary>Null, with <paramref name="fatal"/> set, when the first row shows that -KeyProperty or -PromptTemplate names no column.</summary>
        public RowInput Bind(PSObject input, string prompt, string appName, string fileUrl, out ApiOutcome fatal)
        {
            fatal = null;
            long index = _index++;
            object target = (object)input ?? prompt;
            // A piped string is the prompt itself, unless -Prompt was given on the command line.
            if (!_promptOnCommandLine && input?.BaseObject is string text) prompt = text;
            ApiOutcome bindingError = null;
            if (_template != null)
            {
                // The fingerprint, and so the journal, sees the rendered prompt: a changed column is a changed request.
                var rendered = _template.Render(input);
                prompt = rendered.Prompt;
                // A column the first row lacks is a typo the whole input shares: say so once, before anything is sent.
                if (!rendered.Succeeded && index == 0) { fatal = TemplateColumnMissing(rendered.MissingColumn, input); return null; }
                if (!rendered.Succeeded) bindingError = RowInput.Invalid(ErrorIds.InvalidPrompt, rendered.Error);
            }
            else if (PromptArgumentAttribute.IsNotText(prompt, out string typeName))
            {
                bindingError = RowInput.Invalid(ErrorIds.InvalidPrompt, "The prompt is a " + typeName + ", not text; select the column that holds the text.");
                prompt = null;
            }
            string key = null, rowKey = null;
            if (_keyColumns != null)
            {
                var values = new string[_keyColumns.Names.Count];
                var missing = new List<string>();
                for (int i = 0; i < values.Length; i++)
                {
                    var property = input?.BaseObject is string ? null : input?.Properties[_keyColumns.Names[i]];
                    if (property == null) missing.Add(_keyColumns.Names[i]);
                    values[i] = property?.Value == null ? null : LanguagePrimitives.ConvertTo<string>(property.Value);
                }
                if (index == 0 && missing.Count > 0)
                {
                    fatal = RowInput.Invalid(ErrorIds.KeyPropertyNotFound, "The first row has no " + string.Join(", ", missing.Select(m => "'" + m + "'")) + (missing.Count == 1 ? " property" : " properties") +
                            " (-KeyProperty). Its properties: " + string.Join(", ", input?.Properties.Select(p => p.Name) ?? new string[0]) + ". Nothing was sent.");
                    return null;
                }
                _keyColumns.Compose(values, out key, out rowKey);
            }
            return new RowInput(index, target, prompt, string.IsNullOrEmpty(appName) ? _defaultApp : appName, fileUrl, key, bindingError, rowKey);
        }

        private ApiOutcome TemplateColumnMissing(string column, PSObject input) =>
            RowInput.Invalid(ErrorIds.TemplateColumnNotFound, "The first row has no '" + column + "' column, which -PromptTemplate '" + _template.Text +
                "' names. Its columns: " + string.Join(", ", ColumnsOf(input)) + ". Nothing was sent. " +
                "Braces meant as text are written {{ and }} in a template.");

        /// <summary>The names a template can use: a hashtable's keys, an object's properties; a string has none.</summary>
        private static IEnumerable<string> ColumnsOf(PSObject input)
        {
            if (input == null || input.BaseObject is string) return new[] { "(none: the row is a string)" };
            if (input.BaseObject is IDictionary dictionary) return dictionary.Keys.Cast<object>().Select(k => k?.ToString());
            return input.Properties.Select(p => p.Name);
        }
    }
}
