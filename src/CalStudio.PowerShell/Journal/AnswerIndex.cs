using System.Collections.Generic;

namespace CalStudio.Journal
{
    /// <summary>Where a journal's answer to one request lies: the line's first byte and its length without the newline.</summary>
    internal struct AnswerLine
    {
        public AnswerLine(long offset, int length) { Offset = offset; Length = length; }
        public long Offset { get; }
        public int Length { get; }
    }

    /// <summary>
    /// The journal's answers in memory: (row key, request fingerprint) -> the newest successful line for that pair.
    /// Passes over one input (other templates, apps or files, the same keys) keep one answer each instead of
    /// replacing one another's. Memory-critical (500,000 rows): one key string per key, however many requests it has;
    /// each further request of a key is a 32-byte struct in one shared array, chained from the key's first.
    /// Not thread-safe: the journal calls it under its own lock.
    /// </summary>
    internal sealed class AnswerIndex
    {
        private struct Slot
        {
            public RequestFingerprint.Packed Fingerprint;
            public long Offset;
            public int Length;
            public int Next; // 1 + the index in _more of the key's next request; 0: no more
        }

        private readonly Dictionary<string, Slot> _first = new Dictionary<string, Slot>(System.StringComparer.Ordinal);
        private Slot[] _more = new Slot[0];
        private int _moreCount;

        public int Keys => _first.Count;

        /// <summary>A successful line for this key and request; a later line for the same pair replaces the earlier one.</summary>
        public void Record(string rowKey, RequestFingerprint.Packed fingerprint, long offset, int length)
        {
            if (!_first.TryGetValue(rowKey, out Slot first))
            {
                _first[rowKey] = new Slot { Fingerprint = fingerprint, Offset = offset, Length = length };
                return;
            }
            if (first.Fingerprint.Equals(fingerprint))
            {
                first.Offset = offset;
                first.Length = length;
                _first[rowKey] = first;
                return;
            }
            for (int next = first.Next; next != 0; next = _more[next - 1].Next)
            {
                if (!_more[next - 1].Fingerprint.Equals(fingerprint)) continue;
                _more[next - 1].Offset = offset;
                _more[next - 1].Length = length;
                return;
            }
            if (_moreCount == _more.Length) System.Array.Resize(ref _more, System.Math.Max(16, _more.Length * 2));
            // Pushed at the head of the key's chain: the order of a key's requests does not matter, only the pair's line.
            _more[_moreCount++] = new Slot { Fingerprint = fingerprint, Offset = offset, Length = length, Next = first.Next };
            first.Next = _moreCount;
            _first[rowKey] = first;
        }

        /// <summary>Answered: <paramref name="line"/> is the pair's newest success. Superseded: the key has answers, to other requests only.</summary>
        public JournalMatch Find(string rowKey, RequestFingerprint.Packed fingerprint, out AnswerLine line)
        {
            line = default(AnswerLine);
            if (!_first.TryGetValue(rowKey, out Slot slot)) return JournalMatch.None;
            while (!slot.Fingerprint.Equals(fingerprint))
            {
                if (slot.Next == 0) return JournalMatch.Superseded;
                slot = _more[slot.Next - 1];
            }
            line = new AnswerLine(slot.Offset, slot.Length);
            return JournalMatch.Answered;
        }

        /// <summary>True when the key has an answer to some request (any fingerprint).</summary>
        public bool HasKey(string rowKey) => _first.ContainsKey(rowKey);
    }
}
