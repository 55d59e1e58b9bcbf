using System;
using System.IO;
using CalStudio.Client;
using CalStudio.Journal;
using Xunit;

namespace CalStudio.Tests
{
    public class JournalTests : IDisposable
    {
        private readonly string _path = Path.Combine(Path.GetTempPath(), "calstudio-journal-" + Guid.NewGuid().ToString("N") + ".jsonl");

        private static Response Answer(string key, bool success) => new Response
        {
            RowKey = key, Success = success, Prompt = "p \"quoted\"\n😀", AppName = "a", Message = success ? "m" : null,
            ErrorId = success ? null : ErrorIds.ServerError, StatusCode = success ? 200 : 500, Attempts = 2, CompletedAt = DateTimeOffset.Now,
        };

        [Fact]
        public void Round_trips_answers_and_keeps_only_successes_as_answered()
        {
            using (var j = JournalFile.Open(_path, "Id"))
            {
                j.Append(Answer("key:1", true));
                j.Append(Answer("key:2", false));
            }
            using (var j = JournalFile.Open(_path, "Id"))
            {
                Assert.True(j.TryGetAnswered("key:1", out var r));
                Assert.True(r.FromJournal);
                Assert.Equal("p \"quoted\"\n😀", r.Prompt);
                Assert.Equal(2, r.Attempts);
                Assert.False(j.TryGetAnswered("key:2", out _));
            }
        }

        [Fact]
        public void A_torn_last_line_is_skipped_with_a_warning_and_the_next_entry_starts_clean()
        {
            using (var j = JournalFile.Open(_path, null)) j.Append(Answer("k1", true));
            File.AppendAllText(_path, "{\"key\":\"k2\",\"succ");
            using (var j = JournalFile.Open(_path, null))
            {
                Assert.Single(j.Warnings);
                Assert.True(j.TryGetAnswered("k1", out _));
                j.Append(Answer("k3", true));
            }
            var contents = JournalFile.Read(_path);
            Assert.Equal(new[] { "k1", "k3" }, contents.Entries.ConvertAll(e => e.RowKey));
            Assert.Single(contents.Warnings);
        }

        [Fact]
        public void A_journal_with_another_key_property_is_refused()
        {
            using (var j = JournalFile.Open(_path, "Id")) j.Append(Answer("key:1", true));
            var ex = Assert.Throws<JournalException>(() => JournalFile.Open(_path, null));
            Assert.Equal(ErrorIds.JournalKeyMismatch, ex.ErrorId);
            Assert.Contains("-KeyProperty 'Id'", ex.Message);
            Assert.Throws<JournalException>(() => JournalFile.Open(_path, "TicketNumber"));
        }

        public void Dispose() { if (File.Exists(_path)) File.Delete(_path); }
    }
}
