using System;
using System.Collections.Generic;

namespace CalStudio.Session
{
    /// <summary>
    /// The answer-shape type names a session has registered with Update-TypeData. Registering by script costs a few
    /// milliseconds and compiles fresh call sites each time, so a session that runs many batches of one shape
    /// registers it once. Bounded: past the limit a shape is registered again by each batch, as before. Thread-safe.
    /// </summary>
    internal sealed class AnswerTypeRegistry
    {
        private const int MaxTypes = 1000;
        private readonly HashSet<string> _types = new HashSet<string>(StringComparer.OrdinalIgnoreCase); // as PowerShell compares type names

        public bool Contains(string typeName)
        {
            lock (_types) return _types.Contains(typeName);
        }

        public void Add(string typeName)
        {
            lock (_types) if (_types.Count < MaxTypes) _types.Add(typeName);
        }
    }
}
