using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace CalStudio.Journal
{
    /// <summary>One line of a journal file, without its newline.</summary>
    internal struct JournalLine
    {
        public JournalLine(int number, long offset, int byteLength, string text, bool terminated)
        {
            Number = number; Offset = offset; ByteLength = byteLength; Text = text; Terminated = terminated;
        }

        public int Number { get; }          // 1-based, as an editor shows it
        public long Offset { get; }         // of the line's first byte
        public int ByteLength { get; }      // without the newline
        public string Text { get; }         // without a trailing '\r'
        public bool Terminated { get; }     // false only for a last line cut off before its newline
    }

    /// <summary>Reads a journal line by line in fixed-size chunks: a 100 MB journal never becomes one 100 MB string.</summary>
    internal static class JournalLines
    {
        private const int ChunkSize = 64 * 1024;
        private static readonly UTF8Encoding Utf8 = new UTF8Encoding(false);

        public static IEnumerable<JournalLine> Read(Stream stream)
        {
            var chunk = new byte[ChunkSize];
            var pending = new MemoryStream(); // a line that runs across chunks
            long chunkOffset = 0, lineOffset = 0;
            int number = 0, read;
            while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
            {
                int start = 0;
                for (int i = Array.IndexOf(chunk, (byte)'\n', 0, read); i >= 0; i = Array.IndexOf(chunk, (byte)'\n', start, read - start))
                {
                    string text;
                    int length;
                    if (pending.Length == 0)
                    {
                        length = i - start;
                        text = Utf8.GetString(chunk, start, length);
                    }
                    else
                    {
                        pending.Write(chunk, start, i - start);
                        length = (int)pending.Length;
                        text = Utf8.GetString(pending.GetBuffer(), 0, length);
                        pending.SetLength(0);
                    }
                    yield return new JournalLine(++number, lineOffset, length, text.TrimEnd('\r'), terminated: true);
                    start = i + 1;
                    lineOffset = chunkOffset + start;
                    if (start >= read) break;
                }
                if (start < read) pending.Write(chunk, start, read - start);
                chunkOffset += read;
            }
            if (pending.Length > 0)
                yield return new JournalLine(++number, lineOffset, (int)pending.Length, Utf8.GetString(pending.GetBuffer(), 0, (int)pending.Length).TrimEnd('\r'), terminated: false);
        }
    }

    /// <summary>Damaged lines counted while reading, reported as one warning instead of one per line.</summary>
    internal sealed class DamagedLines
    {
        private const int Shown = 5;
        private readonly List<int> _first = new List<int>(Shown);
        private int? _cutOff;

        public int Count { get; private set; }

        public void Add(JournalLine line)
        {
            Count++;
            if (_first.Count < Shown) _first.Add(line.Number);
            if (!line.Terminated) _cutOff = line.Number;
        }

        /// <summary>Null when every line was whole.</summary>
        public string Warning(string path)
        {
            if (Count == 0) return null;
            var sb = new StringBuilder("Journal '").Append(path).Append("' has ").Append(Count).Append(Count == 1 ? " incomplete or damaged line (" : " incomplete or damaged lines (");
            sb.Append(string.Join(", ", _first)).Append(Count > _first.Count ? ", ...)" : ")");
            sb.Append(", skipped; their rows count as not answered and are sent again.");
            if (_cutOff.HasValue) sb.Append(" Line ").Append(_cutOff.Value).Append(" was cut off, probably by an interrupted run.");
            return sb.ToString();
        }
    }
}
