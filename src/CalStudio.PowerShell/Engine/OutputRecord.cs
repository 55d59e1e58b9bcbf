using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace CalStudio.Engine
{
    /// <summary>
    /// The object a row becomes on the pipeline: the Response, with the input row's own columns carried along, so
    /// Export-Csv writes the user's Id or Owner beside the answer. A column named like a Response property is kept
    /// too, renamed with <see cref="CollisionPrefix"/>: nothing the user sent in is dropped.
    /// </summary>
    internal sealed class OutputRecord
    {
        public const string CollisionPrefix = "Input_";

        // Prompt, AppName and FileUrl are what the row was bound from: the answer carries them, so they are not collisions.
        private static readonly HashSet<string> BoundFrom = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "Prompt", "AppName", "FileUrl" };

        private static readonly HashSet<string> OwnProperties = new HashSet<string>(
            typeof(Response).GetProperties().Select(p => p.Name), StringComparer.OrdinalIgnoreCase);

        private readonly HashSet<string> _renamed = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        /// <summary>A warning naming the columns renamed since the last call, or null: a batch warns once, not per row.</summary>
        public string TakeRenameWarning()
        {
            if (_pending.Count == 0) return null;
            string text = "The input column(s) " + string.Join(", ", _pending) + " share a name with a property of the answer; they are kept as " +
                          string.Join(", ", _pending.Select(n => CollisionPrefix + n)) + ".";
            _pending.Clear();
            return text;
        }

        private readonly List<string> _pending = new List<string>();
        private readonly HashSet<string> _columns = new HashSet<string>(StringComparer.OrdinalIgnoreCase); // of the last Build

        /// <summary>Whether the object the last <see cref="Build"/> made has this property (its Response's, or an input column it carried).</summary>
        public bool Has(string name) => OwnProperties.Contains(name) || _columns.Contains(name);

        public PSObject Build(Response response, RowInput row)
        {
            _columns.Clear();
            var output = new PSObject(response);
            if (!(row.Row is PSObject input) || input.BaseObject is string) return output;
            foreach (var property in input.Properties)
            {
                if (!property.IsGettable) continue;
                if (property.MemberType != PSMemberTypes.NoteProperty && property.MemberType != PSMemberTypes.Property) continue;
                object value;
                try { value = property.Value; } catch (GetValueException) { continue; }
                string name = property.Name;
                if (BoundFrom.Contains(name)) continue;
                if (OwnProperties.Contains(name))
                {
                    name = CollisionPrefix + name;
                    if (_renamed.Add(property.Name)) _pending.Add(property.Name);
                }
                if (_columns.Add(name)) output.Properties.Add(new PSNoteProperty(name, value));
            }
            return output;
        }
    }
}
