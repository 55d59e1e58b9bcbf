using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CalStudio.Client;
using CalStudio.Engine;
using CalStudio.Journal;
using Xunit;

namespace CalStudio.Tests
{
    /// <summary>The journal's index of (key, request) answers, the newest-per-key report, and composite and repeated keys.</summary>
    public class PassesAndKeysTests : IDisposable
    {
        private readonly string _path = Path.Combine(Path.GetTempPath(), "calstudio-passes-" + Guid.NewGuid().ToString("N") + ".jsonl");

        public void Dispose()
        {
            try { File.Delete(_path); } catch (IOException) { }
        }

        private static RequestFingerprint.Packed Fp(string prompt)
        {
            Assert.True(RequestFingerprint.TryPack(JournalFile.Fingerprint("app", prompt, null), out var packed));
            return packed;
        }

        private static Response Answer(string key, string prompt, bool success = true, long row = 1) => new Response
        {
            RowKey = key, Key = key.StartsWith("key:") ? key.Substring(4) : null, RowNumber = row, Success = success,
            Prompt = prompt, AppName = "app", Message = success ? "answer to " + prompt : null,
            ErrorId = success ? null : ErrorIds.ServerError, StatusCode = success ? 200 : 500, Attempts = 1, CompletedAt = DateTimeOffset.Now,
        };

        [Fact]
        public void The_index_keeps_one_answer_per_key_and_request_and_the_newest_line_of_each()
        {
            var index = new AnswerIndex();
            index.Record("key:1", Fp("summary"), 100, 10);
            index.Record("key:1", Fp("class"), 200, 20);
            index.Record("key:1", Fp("third"), 300, 30);
            index.Record("key:1", Fp("summary"), 400, 40); // rerun of the first pass: its newer line wins
            index.Record("key:2", Fp("summary"), 500, 50);

            Assert.Equal(JournalMatch.Answered, index.Find("key:1", Fp("summary"), out var line));
            Assert.Equal(400, line.Offset);
            Assert.Equal(40, line.Length);
            Assert.Equal(JournalMatch.Answered, index.Find("key:1", Fp("class"), out line));
            Assert.Equal(200, line.Offset);
            Assert.Equal(JournalMatch.Answered, index.Find("key:1", Fp("third"), out line));
            Assert.Equal(300, line.Offset);
            Assert.Equal(JournalMatch.Superseded, index.Find("key:1", Fp("next week"), out _));
            Assert.Equal(JournalMatch.Superseded, index.Find("key:2", Fp("class"), out _));
            Assert.Equal(JournalMatch.None, index.Find("key:3", Fp("summary"), out _));
            Assert.Equal(2, index.Keys);
        }

        [Fact]
        public void Two_passes_on_one_journal_are_each_answered_after_reopening_and_a_changed_question_is_not()
        {
            using (var j = JournalFile.Open(_path, "Id"))
            {
                j.Append(Answer("key:1", "Summarise 1"));
                j.Append(Answer("key:1", "Classify 1"));
                j.Append(Answer("key:1", "Summarise 1", success: false)); // a later failure never hides an answer
            }
            using (var j = JournalFile.Open(_path, "Id"))
            {
                Assert.Equal(JournalMatch.Answered, j.Lookup("key:1", JournalFile.Fingerprint("app", "Summarise 1", null), out var summary));
                Assert.Equal("answer to Summarise 1", summary.Message);
                Assert.Equal(JournalMatch.Answered, j.Lookup("key:1", JournalFile.Fingerprint("app", "Classify 1", null), out var classified));
                Assert.Equal("answer to Classify 1", classified.Message);
                Assert.Equal(JournalMatch.Superseded, j.Lookup("key:1", JournalFile.Fingerprint("app", "Summarise 1, changed", null), out _));
            }
        }

        [Fact]
        public void Entries_carry_their_key_and_row_number_and_old_lines_still_read()
        {
            using (var j = JournalFile.Open(_path, "Id")) j.Append(Answer("key:T-7", "p", row: 42));
            File.AppendAllText(_path, "{\"key\":\"key:old\",\"success\":true,\"prompt\":\"p\",\"appName\":\"app\",\"message\":\"m\"}\n");
            using (var reader = JournalReader.Open(_path))
            {
                var entries = reader.Entries().ToList();
                Assert.Null(reader.Warning);
                Assert.Equal(new[] { "T-7", "old" }, entries.Select(e => e.Key));
                Assert.Equal(new[] { 42L, 0L }, entries.Select(e => e.RowNumber));
            }
        }

        [Fact]
        public void The_newest_entry_per_key_is_what_the_journal_says_now_and_a_filter_chooses_before_it()
        {
            using (var j = JournalFile.Open(_path, "Id"))
            {
                j.Append(Answer("key:1", "Summarise {Subjet}", success: false));
                j.Append(Answer("key:2", "other", success: false));
                var fixedOne = Answer("key:1", "Summarise fixed");
                fixedOne.AppName = "fixed-app"; // the fix changed the app too: still the row's answer
                j.Append(fixedOne);
            }
            JournalReader Open() => JournalReader.Open(_path);
            var warnings = new List<string>();
            var now = LatestEntries.Read(Open, _ => true, warnings.Add).ToList();
            Assert.Equal(new[] { "key:2", "key:1" }, now.Select(e => e.RowKey)); // file order of the winning lines
            Assert.Equal(new[] { false, true }, now.Select(e => e.Success));
            Assert.Empty(warnings);

            var firstApp = LatestEntries.Read(Open, e => e.AppName == "app", warnings.Add).ToList();
            Assert.Equal(new[] { false, false }, firstApp.Select(e => e.Success));
        }

        [Fact]
        public void A_composite_key_keeps_values_apart_whatever_they_hold_and_is_blank_only_when_every_part_is()
        {
            var columns = KeyColumns.From(new[] { "TicketId", "AppName" });
            Assert.Equal("TicketId, AppName", columns.JournalName);
            columns.Compose(new[] { "a,b", "c" }, out string shown1, out string key1);
            columns.Compose(new[] { "a", "b,c" }, out string shown2, out string key2);
            Assert.NotEqual(key1, key2);
            Assert.Equal("key:[\"a,b\",\"c\"]", key1);
            columns.Compose(new[] { "a\",\"b", "c" }, out _, out string key3);
            columns.Compose(new[] { "a", "b\",\"c" }, out _, out string key4);
            Assert.NotEqual(key3, key4); // quotes are escaped, not taken for the array's own
            columns.Compose(new[] { "T1", null }, out string partly, out string partlyKey);
            Assert.Equal("T1, ", partly);
            Assert.NotNull(partlyKey);
            columns.Compose(new[] { " ", null }, out string blank, out string blankKey);
            Assert.Null(blank);
            Assert.Null(blankKey);

            var single = KeyColumns.From(new[] { "Id" });
            single.Compose(new[] { "7" }, out string value, out string rowKey);
            Assert.Equal("7", value);
            Assert.Equal("key:7", rowKey); // as journals written before composite keys hold it
            Assert.Null(KeyColumns.From(new string[0]));
        }

        [Fact]
        public void The_same_key_and_request_is_a_repeat_another_request_a_duplicate()
        {
            var keys = new RowKeys(keyed: true, hashWhenUnkeyed: true);
            RowInput Row(string key, string prompt, string app = "app") => new RowInput(0, null, prompt, app, null, key);
            Assert.Null(keys.Check(Row("1", "q"), out bool repeat));
            Assert.False(repeat);
            Assert.Null(keys.Check(Row("1", "q"), out repeat));
            Assert.True(repeat);
            Assert.Equal(ErrorIds.DuplicateRowKey, keys.Check(Row("1", "q", app: "other"), out repeat).ErrorId);
            Assert.False(repeat);
            Assert.Equal(ErrorIds.DuplicateRowKey, keys.Check(Row("1", "q2"), out _).ErrorId);
            Assert.Null(keys.Check(Row("1", "q"), out repeat)); // still a repeat of the first row, not of the refused ones
            Assert.True(repeat);
        }

        [Fact]
        public void The_resume_command_quotes_each_column_of_a_composite_key()
        {
            var bound = new Dictionary<string, object> { ["KeyProperty"] = new[] { "TicketId", "It's" }, ["JournalPath"] = "j.jsonl" };
            string resume = BatchTexts.ResumeCommand("Invoke-CalStudioPrompt", bound, new[] { "JournalPath", "KeyProperty" }, hasJournal: true);
            Assert.Equal("<the same input> | Invoke-CalStudioPrompt -JournalPath 'j.jsonl' -KeyProperty 'TicketId', 'It''s'", resume);
        }
    }
}
