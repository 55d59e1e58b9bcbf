using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using CalStudio.Client;
using CalStudio.Journal;
using Xunit;

namespace CalStudio.Tests
{
    public class JournalTests : IDisposable
    {
        private readonly string _path = Path.Combine(Path.GetTempPath(), "calstudio-journal-" + Guid.NewGuid().ToString("N") + ".jsonl");

        private static Response Answer(string key, bool success, string prompt = "p \"quoted\"\n😀") => new Response
        {
            RowKey = key, Success = success, Prompt = prompt, AppName = "a", Message = success ? "m for " + prompt : null,
            ErrorId = success ? null : ErrorIds.ServerError, StatusCode = success ? 200 : 500, Attempts = 2, CompletedAt = DateTimeOffset.Now,
        };

        private static string Fp(Response r) => JournalFile.Fingerprint(r.AppName, r.Prompt, r.FileUrl);

        private static JournalMatch Lookup(JournalFile j, Response asked, out Response earlier) => j.Lookup(asked.RowKey, Fp(asked), out earlier);

        private List<Response> ReadAll(out string warning)
        {
            using (var reader = JournalReader.Open(_path))
            {
                var entries = reader.Entries().ToList();
                warning = reader.Warning;
                return entries;
            }
        }

        private static string Sha256(string path)
        {
            using (var sha = SHA256.Create()) return Convert.ToBase64String(sha.ComputeHash(File.ReadAllBytes(path)));
        }

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
                Assert.Equal(JournalMatch.Answered, Lookup(j, Answer("key:1", true), out var r));
                Assert.True(r.FromJournal);
                Assert.Equal("p \"quoted\"\n😀", r.Prompt);
                Assert.Equal(2, r.Attempts);
                Assert.Equal(JournalMatch.None, Lookup(j, Answer("key:2", true), out var none));
                Assert.Null(none);
            }
        }

        [Fact]
        public void The_same_key_with_another_prompt_is_superseded_and_both_answers_stand_on_the_next_open()
        {
            var lastWeek = Answer("7", true, "What is the capital of France?");
            var thisWeek = Answer("7", true, "What is the capital of Italy?");
            using (var j = JournalFile.Open(_path, "Id"))
            {
                j.Append(lastWeek);
                Assert.Equal(JournalMatch.Superseded, Lookup(j, thisWeek, out var earlier));
                Assert.Null(earlier);
                Assert.Equal(JournalMatch.Answered, Lookup(j, lastWeek, out earlier));
                Assert.Equal(lastWeek.Message, earlier.Message);
                j.Append(thisWeek);
                Assert.Equal(JournalMatch.Answered, Lookup(j, thisWeek, out earlier)); // read back from the line just written
                Assert.Equal(thisWeek.Message, earlier.Message);
            }
            using (var j = JournalFile.Open(_path, "Id"))
            {
                Assert.Equal(JournalMatch.Answered, Lookup(j, thisWeek, out var earlier));
                Assert.Equal(thisWeek.Message, earlier.Message);
                // Each request keeps its own answer: a pass with last week's question is still answered, not resent.
                Assert.Equal(JournalMatch.Answered, Lookup(j, lastWeek, out earlier));
                Assert.Equal(lastWeek.Message, earlier.Message);
            }
        }

        [Fact]
        public void A_failed_resend_keeps_the_row_unanswered_for_its_new_prompt()
        {
            var lastWeek = Answer("7", true, "old");
            var failed = Answer("7", false, "new");
            using (var j = JournalFile.Open(_path, "Id")) { j.Append(lastWeek); j.Append(failed); }
            using (var j = JournalFile.Open(_path, "Id"))
                Assert.Equal(JournalMatch.Superseded, Lookup(j, Answer("7", true, "new"), out _));
        }

        [Fact]
        public void Lines_written_without_a_fingerprint_are_matched_by_one_computed_from_their_request()
        {
            File.WriteAllText(_path, JournalEntry.Header("Id") + "\n" +
                "{\"key\":\"1\",\"success\":true,\"prompt\":\"hello\",\"appName\":\"a\",\"message\":\"hi\",\"statusCode\":200,\"attempts\":1,\"durationMs\":5}\n");
            using (var j = JournalFile.Open(_path, "Id"))
            {
                Assert.Empty(j.Warnings);
                Assert.Equal(JournalMatch.Answered, j.Lookup("1", JournalFile.Fingerprint("a", "hello", null), out var r));
                Assert.Equal("hi", r.Message);
                Assert.Equal(JournalMatch.Superseded, j.Lookup("1", JournalFile.Fingerprint("a", "hello again", null), out _));
            }
        }

        [Fact]
        public void Each_line_stores_the_fingerprint_of_its_request()
        {
            var r = Answer("1", true);
            using (var j = JournalFile.Open(_path, "Id")) j.Append(r);
            string line = File.ReadAllLines(_path)[1];
            Assert.Contains("\"fp\":\"" + Fp(r) + "\"", line);
            Assert.Matches("^sha256:[0-9a-f]{32}$", Fp(r));
            Assert.NotEqual(Fp(r), JournalFile.Fingerprint("a", r.Prompt, "https://example.com/f.pdf"));
            Assert.NotEqual(JournalFile.Fingerprint("ab", "c", null), JournalFile.Fingerprint("a", "bc", null));
        }

        [Fact]
        public void A_torn_last_line_is_skipped_with_a_warning_and_the_next_entry_starts_clean()
        {
            using (var j = JournalFile.Open(_path, null)) j.Append(Answer("k1", true));
            File.AppendAllText(_path, "{\"key\":\"k2\",\"succ");
            using (var j = JournalFile.Open(_path, null))
            {
                Assert.Contains("cut off", Assert.Single(j.Warnings));
                Assert.Equal(JournalMatch.Answered, Lookup(j, Answer("k1", true), out _));
                j.Append(Answer("k3", true));
            }
            var entries = ReadAll(out string warning);
            Assert.Equal(new[] { "k1", "k3" }, entries.Select(e => e.RowKey));
            Assert.NotNull(warning);
        }

        public static IEnumerable<object[]> DamagedLines() => new[]
        {
            "{\"key\":\"d\",\"success\":true,\"durationMs\":1e300}",
            "{\"key\":\"d\",\"success\":true,\"durationMs\":-1e300}",
            "{\"key\":\"d\",\"success\":true,\"durationMs\":1e400}",
            "{\"key\":\"d\",\"success\":true,\"durationMs\":NaN}",
            "{\"key\":\"d\",\"success\":true,\"durationMs\":9.3e14}",
            "{\"key\":\"d\",\"success\":\"yes\"}",
            "{\"key\":\"d\",\"success\":true,\"statusCode\":1e10}",
            "{\"key\":\"d\",\"success\":true,\"attempts\":-5}",
            "{\"key\":\"d\",\"success\":true,\"attempts\":1.5}",
            "{\"key\":42,\"success\":true}",
            "{\"key\":\"d\",\"success\":true,\"prompt\":[1]}",
            "{\"key\":\"d\",\"success\":true,\"completedAt\":\"yesterday\"}",
            "{\"key\":\"d\",\"success\":true,\"fp\":\"md5:abc\"}",
            "{\"key\":\"d\",\"success\":true,\"attempts\":01}",
            "{\"key\":\"d\",\"success\":true,\"attempts\":1.}",
            "{\"key\":\"d\",\"success\":true,}",
            "{\"key\":\"d\",\"success\":true} trailing",
            "{\"key\":\"d\",\"success\":true,\"message\":{\"nested\":1}}",
            "{\"key\":\"d\",\"success\":true,\"message\":\"bad \\q escape\"}",
            "{\"key\":\"d\",\"success\":tru}",
            "[\"key\",\"d\"]",
            "not json at all",
        }.Select(l => new object[] { l });

        [Theory]
        [MemberData(nameof(DamagedLines))]
        public void A_damaged_line_of_any_kind_is_skipped_with_one_warning_by_both_readers(string damaged)
        {
            using (var j = JournalFile.Open(_path, "Id")) j.Append(Answer("1", true));
            File.AppendAllText(_path, damaged + "\n");
            using (var j = JournalFile.Open(_path, "Id"))
            {
                Assert.Contains("1 incomplete or damaged line (3)", Assert.Single(j.Warnings));
                Assert.Equal(JournalMatch.None, j.Lookup("d", JournalFile.Fingerprint(null, null, null), out _));
                Assert.Equal(JournalMatch.Answered, Lookup(j, Answer("1", true), out _));
            }
            Assert.Single(ReadAll(out string warning));
            Assert.Contains("1 incomplete or damaged line (3)", warning);
        }

        [Theory]
        [InlineData("{\"key\":\"k\",\"success\":true,\"message\":\"tab\\there \\u00e9 \\\"q\\\" \\/\",\"durationMs\":1.5e3,\"attempts\":3,\"statusCode\":200}", "tab\there é \"q\" /")]
        [InlineData("  { \"key\" : \"k\" , \"success\" : true , \"message\" : \"plain\" , \"durationMs\" : 1500 , \"attempts\" : 3 , \"statusCode\" : 200 }  ", "plain")]
        public void Whole_lines_parse_with_escapes_and_white_space(string line, string message)
        {
            Assert.True(JournalEntry.TryParse(line, out Response r, out _));
            Assert.Equal("k", r.RowKey);
            Assert.Equal(message, r.Message);
            Assert.Equal(1.5, r.Duration);
            Assert.Equal(3, r.Attempts);
            Assert.Equal(200, r.StatusCode);
        }

        [Fact]
        public void Many_damaged_lines_give_one_warning_with_their_count_and_first_line_numbers()
        {
            var sb = new StringBuilder(JournalEntry.Header(null)).Append('\n');
            for (int i = 0; i < 8; i++) sb.Append("{\"key\":\"x\",\"success\":true,\"durationMs\":1e300}\n");
            File.WriteAllText(_path, sb.ToString());
            using (var j = JournalFile.Open(_path, null))
                Assert.Contains("8 incomplete or damaged lines (2, 3, 4, 5, 6, ...)", Assert.Single(j.Warnings));
        }

        [Theory]
        [InlineData("{")]
        [InlineData("{\"format\":\"CalSt")]
        [InlineData("{\"format\":\"CalStudio.Journal\",\"version\":1,\"keyPro")]
        public void A_torn_header_is_rewritten(string torn)
        {
            File.WriteAllText(_path, torn);
            using (var j = JournalFile.Open(_path, "Id"))
            {
                Assert.Single(j.Warnings);
                j.Append(Answer("1", true));
            }
            var lines = File.ReadAllLines(_path);
            Assert.Equal(2, lines.Length);
            Assert.True(JournalEntry.TryReadHeader(lines[0], out string key));
            Assert.Equal("Id", key);
            Assert.Single(ReadAll(out string warning));
            Assert.Null(warning);
        }

        [Theory]
        [InlineData("Id,Prompt\n1,What is 2+2?\n2,Hello\n")]
        [InlineData("{\"level\":\"info\",\"msg\":\"started\"}\n{\"level\":\"warn\",\"msg\":\"slow\"}\n")]
        [InlineData("{\"key\":\"1\",\"success\":true}\n")]
        [InlineData("{\"format\":\"SomethingElse\"}")]
        public void A_file_that_is_not_a_journal_is_refused_and_left_byte_for_byte(string content)
        {
            File.WriteAllText(_path, content);
            File.WriteAllText(JournalHolder.SidecarPath(_path), "a file of the user's that happens to have this name");
            string before = Sha256(_path), sidecarBefore = Sha256(JournalHolder.SidecarPath(_path));
            var ex = Assert.Throws<JournalException>(() => JournalFile.Open(_path, "Id"));
            Assert.Equal(ErrorIds.NotAJournal, ex.ErrorId);
            Assert.Equal(before, Sha256(_path));
            Assert.Equal(sidecarBefore, Sha256(JournalHolder.SidecarPath(_path))); // nothing is written beside a refused file either
            Assert.Equal(ErrorIds.NotAJournal, Assert.Throws<JournalException>(() => JournalReader.Open(_path)).ErrorId);
            using (var j = JournalFile.Open(_path + ".new", "Id")) { } // the same run may then name a new file
            File.Delete(_path + ".new");
        }

        [Fact]
        public void A_second_open_is_refused_as_in_use_naming_the_holder_until_the_first_is_closed_while_readers_read_it()
        {
            using (var first = JournalFile.Open(_path, "Id"))
            {
                first.Append(Answer("1", true));
                var ex = Assert.Throws<JournalException>(() => JournalFile.Open(_path, "Id"));
                Assert.Equal(ErrorIds.JournalInUse, ex.ErrorId);
                Assert.Contains("process " + Process.GetCurrentProcess().Id, ex.Message);
                Assert.Contains(Environment.MachineName, ex.Message);
                Assert.Single(ReadAll(out _)); // only writers are exclusive: a reader sees every line written so far
                Assert.Equal(2, File.ReadAllLines(_path).Length);
                first.Append(Answer("2", true)); // the refused open wrote nothing and took nothing away
            }
            using (var again = JournalFile.Open(_path, "Id"))
                Assert.Equal(JournalMatch.Answered, again.Lookup("2", Fp(Answer("2", true)), out _));
            Assert.Equal(2, ReadAll(out string warning).Count);
            Assert.Null(warning);
        }

        [Fact]
        public void The_sidecar_names_the_holder_and_is_deleted_on_close()
        {
            string sidecar = JournalHolder.SidecarPath(_path);
            using (JournalFile.Open(_path, null))
            {
                Assert.True(CalStudio.Client.Json.TryParse(PathLock.ReadRecord(sidecar).Trim(), out object parsed));
                var o = (Dictionary<string, object>)parsed;
                Assert.Equal((double)Process.GetCurrentProcess().Id, o["pid"]);
                Assert.Equal(Environment.MachineName, o["host"]);
                Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", (string)o["processStartedAt"]);
            }
            Assert.False(File.Exists(sidecar));
        }

        [Fact]
        public void A_stale_sidecar_from_a_killed_run_blocks_nothing_and_is_replaced()
        {
            string sidecar = JournalHolder.SidecarPath(_path);
            File.WriteAllText(sidecar, "{\"pid\":999999,\"host\":\"gone\"}\n");
            using (JournalFile.Open(_path, null))
                Assert.Contains("\"pid\":" + Process.GetCurrentProcess().Id, PathLock.ReadRecord(sidecar));
            Assert.False(File.Exists(sidecar));
        }

        [Fact]
        public void A_header_with_a_byte_order_mark_from_an_editor_is_still_a_journal()
        {
            using (var j = JournalFile.Open(_path, "Id")) j.Append(Answer("1", true));
            File.WriteAllBytes(_path, new byte[] { 0xEF, 0xBB, 0xBF }.Concat(File.ReadAllBytes(_path)).ToArray());
            using (var j = JournalFile.Open(_path, "Id"))
                Assert.Equal(JournalMatch.Answered, Lookup(j, Answer("1", true), out _));
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

        [Fact]
        public void Lines_longer_than_a_read_chunk_round_trip()
        {
            var big = Answer("big", true, new string('x', 200000) + "é");
            using (var j = JournalFile.Open(_path, null)) { j.Append(Answer("small", true)); j.Append(big); j.Append(Answer("after", true)); }
            using (var j = JournalFile.Open(_path, null))
            {
                Assert.Empty(j.Warnings);
                Assert.Equal(JournalMatch.Answered, Lookup(j, big, out var r));
                Assert.Equal(big.Prompt, r.Prompt);
                Assert.Equal(JournalMatch.Answered, Lookup(j, Answer("after", true), out _));
            }
            Assert.Equal(new[] { "small", "big", "after" }, ReadAll(out _).Select(e => e.RowKey));
        }

        public void Dispose()
        {
            foreach (var p in new[] { _path, JournalHolder.SidecarPath(_path) })
                if (File.Exists(p)) File.Delete(p);
        }
    }
}
