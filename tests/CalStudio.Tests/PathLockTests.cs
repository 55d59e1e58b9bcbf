using System;
using System.IO;
using System.Linq;
using CalStudio.Client;
using CalStudio.Journal;
using Xunit;

namespace CalStudio.Tests
{
    /// <summary>The one-writer lock over real files: it holds for the path, never follows a link, and creates files 0600.</summary>
    public class PathLockTests : IDisposable
    {
        private readonly string _folder = Directory.CreateTempSubdirectory("calstudio-lock-").FullName;
        private string Journal => Path.Combine(_folder, "j.jsonl");
        private string LockFile => JournalHolder.SidecarPath(Journal);

        private static Response Answer(string key) => new Response
        {
            RowKey = key, Success = true, Prompt = "p " + key, AppName = "a", Message = "m", StatusCode = 200, Attempts = 1, CompletedAt = DateTimeOffset.Now,
        };

        [Fact]
        public void A_link_planted_at_the_lock_path_is_refused_and_its_target_left_byte_for_byte()
        {
            if (!UnixFile.IsUnix) return; // Windows: a reparse point is refused by attribute; symbolic links need a privilege there
            string target = Path.Combine(_folder, "precious.txt");
            File.WriteAllText(target, "the user's file");
            File.CreateSymbolicLink(LockFile, target);

            Assert.Throws<LinkAtLockPathException>(() => PathLock.Acquire(LockFile, JournalHolder.Record()));
            var ex = Assert.Throws<JournalException>(() => JournalFile.Open(Journal, "Id"));
            Assert.Equal(ErrorIds.JournalUnreadable, ex.ErrorId);
            Assert.Contains("symbolic link", ex.Message);
            Assert.Equal("the user's file", File.ReadAllText(target));
            Assert.NotNull(new FileInfo(LockFile).LinkTarget); // the link itself is left too
            Assert.False(File.Exists(Journal));
        }

        [Fact]
        public void A_second_holder_is_refused_until_the_first_releases_and_the_lock_file_is_deleted_on_release()
        {
            using (var first = PathLock.Acquire(LockFile, "{\"holder\":1}\n"))
            {
                Assert.NotNull(first);
                Assert.Null(PathLock.Acquire(LockFile, "{\"holder\":2}\n"));
                Assert.Equal("{\"holder\":1}\n", PathLock.ReadRecord(LockFile));
            }
            Assert.False(File.Exists(LockFile));
            using (var again = PathLock.Acquire(LockFile, "{\"holder\":3}\n")) Assert.NotNull(again);
        }

        [Fact]
        public void A_journal_deleted_under_its_run_still_refuses_a_second_writer_and_fails_the_first_at_its_next_sync()
        {
            using (var first = JournalFile.Open(Journal, "Id"))
            {
                first.Append(Answer("1"));
                File.Delete(Journal); // rm j.jsonl while the run works

                Assert.Equal(ErrorIds.JournalInUse, Assert.Throws<JournalException>(() => JournalFile.Open(Journal, "Id")).ErrorId);
                Assert.False(File.Exists(Journal)); // the refused run created nothing

                var failed = Assert.Throws<JournalException>(() => first.Sync());
                Assert.Equal(ErrorIds.JournalWriteFailed, failed.ErrorId);
                Assert.Contains(Journal, failed.Message);
                Assert.Contains("deleted or replaced", failed.Message);
                Assert.Equal(ErrorIds.JournalWriteFailed, Assert.Throws<JournalException>(() => first.Append(Answer("2"))).ErrorId);
            }
        }

        [Fact]
        public void New_journals_lock_files_and_state_files_are_readable_by_their_owner_only()
        {
            if (OperatingSystem.IsWindows()) return; // Windows: they inherit the folder's ACL
            const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var journal = JournalFile.Open(Journal, "Id"))
            {
                journal.Append(Answer("1"));
                Assert.Equal(ownerOnly, File.GetUnixFileMode(Journal));
                Assert.Equal(ownerOnly, File.GetUnixFileMode(LockFile));
            }
            string state = Path.Combine(_folder, "budget", "state.json");
            new CalStudio.Quota.SharedBudget(state).Update(s => s.DayCount++);
            Assert.Equal(ownerOnly, File.GetUnixFileMode(state));
        }

        [Fact]
        public void A_journal_opened_to_read_creates_nothing_and_reads_a_held_journal()
        {
            using (var missing = JournalFile.OpenToRead(Journal, "Id"))
                Assert.Equal(JournalMatch.None, missing.Lookup("1", JournalFile.Fingerprint("a", "p 1", null), out _));
            Assert.Empty(Directory.GetFileSystemEntries(_folder));

            using (var writer = JournalFile.Open(Journal, "Id"))
            {
                writer.Append(Answer("1"));
                using (var reader = JournalFile.OpenToRead(Journal, "Id"))
                    Assert.Equal(JournalMatch.Answered, reader.Lookup("1", JournalFile.Fingerprint("a", "p 1", null), out _));
            }
            Assert.Equal(new[] { "j.jsonl" }, Directory.GetFileSystemEntries(_folder).Select(Path.GetFileName));
        }

        public void Dispose()
        {
            try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
        }
    }
}
