using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using CalStudio.Quota;
using Xunit;

namespace CalStudio.Tests
{
    /// <summary>The quota state file: one budget across threads and processes, and an in-memory fallback (with one warning) when the file is unusable.</summary>
    public class SharedBudgetTests : IDisposable
    {
        private static readonly TimeSpan ShortPatience = TimeSpan.FromMilliseconds(300);
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "calstudio-budget-" + Guid.NewGuid().ToString("N"));
        private Action _cleanup = () => { };

        public SharedBudgetTests() { Directory.CreateDirectory(_dir); }

        private string StatePath => Path.Combine(_dir, "k.budget");

        private static BudgetState FileState(string path) => BudgetState.Parse(File.ReadAllText(path));

        private static void AssertOneWarning(SharedBudget budget, string path)
        {
            Assert.True(budget.TryTakeWarning(out string warning));
            Assert.Contains(path, warning);
            Assert.Contains("CALSTUDIO_STATE_DIR", warning);
            Assert.Contains("this process only", warning);
            Assert.False(budget.TryTakeWarning(out _));
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public async Task A_lock_held_by_another_stream_means_pacing_in_memory_with_one_warning_after_bounded_attempts(bool synchronous)
        {
            File.WriteAllText(StatePath, new BudgetState { DayCount = 5 }.Serialize());
            var budget = new SharedBudget(StatePath, ShortPatience);
            using (new FileStream(StatePath, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
            {
                Func<BudgetState, int> increment = s => ++s.DayCount;
                int first = synchronous ? budget.Update(increment) : await budget.UpdateAsync(increment);
                Assert.True(budget.InMemory);
                // 1, 2, 4 ... 100 ms waits within 300 ms: a handful of attempts, not thousands.
                Assert.InRange(budget.OpenAttempts, 3, 12);
                int attempts = budget.OpenAttempts;
                for (int i = 0; i < 10; i++) await budget.UpdateAsync(increment);
                Assert.Equal(attempts, budget.OpenAttempts); // the fallback does not knock on the file for every row
                Assert.Equal(first + 10, budget.Read().DayCount);
                AssertOneWarning(budget, StatePath);

                // Another budget on the same path in this process shares the in-memory state, and warns its own user once.
                var other = new SharedBudget(StatePath, ShortPatience);
                Assert.Equal(first + 11, await other.UpdateAsync(increment));
                AssertOneWarning(other, StatePath);
            }
            Assert.Equal(5, FileState(StatePath).DayCount);
        }

        [Fact]
        public void A_read_only_file_is_not_written_and_pacing_goes_on_from_its_count()
        {
            File.WriteAllText(StatePath, new BudgetState { Day = 20260101, DayCount = 7 }.Serialize());
            byte[] before = File.ReadAllBytes(StatePath);
            MakeReadOnly(StatePath);
            var budget = new SharedBudget(StatePath, ShortPatience);
            Assert.Equal(8, budget.Update(s => ++s.DayCount));
            Assert.True(budget.InMemory);
            AssertOneWarning(budget, StatePath);
            Assert.Equal(before, File.ReadAllBytes(StatePath));
        }

        [Fact]
        public async Task A_folder_at_the_file_s_path_means_pacing_in_memory()
        {
            Directory.CreateDirectory(StatePath);
            var budget = new SharedBudget(StatePath, ShortPatience);
            Assert.Equal(0, budget.Read().DayCount);
            Assert.Equal(1, await budget.UpdateAsync(s => ++s.DayCount));
            budget.Check();
            Assert.Equal(2, budget.Update(s => ++s.DayCount));
            AssertOneWarning(budget, StatePath);
            Assert.Equal(2, budget.Read().DayCount);
            Assert.True(Directory.Exists(StatePath));
        }

        [Fact]
        public async Task A_state_folder_that_cannot_be_created_means_pacing_in_memory()
        {
            // Root ignores permissions: a regular file where the folder should be stops anyone creating it.
            string blocker = Path.Combine(_dir, "not-a-folder");
            File.WriteAllText(blocker, "");
            string path = Path.Combine(blocker, "budget", "k.budget");
            var budget = new SharedBudget(path, ShortPatience);
            budget.Check();
            AssertOneWarning(budget, path);
            Assert.Equal(1, await budget.UpdateAsync(s => ++s.DayCount));
            Assert.Equal(1, budget.Read().DayCount);
            Assert.False(budget.TryTakeWarning(out _));
            Assert.Equal("", File.ReadAllText(blocker));
        }

        [Fact]
        public async Task Each_command_that_finds_the_file_still_unusable_warns_again_once_and_a_usable_file_takes_the_counts_back()
        {
            Directory.CreateDirectory(StatePath);
            var budget = new SharedBudget(StatePath, ShortPatience);
            budget.Check();
            AssertOneWarning(budget, StatePath);
            for (int i = 0; i < 3; i++) await budget.UpdateAsync(s => ++s.DayCount);
            budget.Check(); // the next batch
            AssertOneWarning(budget, StatePath);

            Directory.Delete(StatePath);
            File.WriteAllText(StatePath, new BudgetState { Day = 0, DayCount = 4 }.Serialize()); // another process counted 4 meanwhile
            budget.Check();
            Assert.False(budget.InMemory);
            Assert.False(budget.TryTakeWarning(out _));
            Assert.Equal(7, FileState(StatePath).DayCount);
            Assert.Equal(8, await budget.UpdateAsync(s => ++s.DayCount));
            Assert.Equal(8, FileState(StatePath).DayCount);
        }

        [Fact]
        public void Read_and_a_snapshot_leave_the_file_s_bytes_and_time_alone_and_create_nothing()
        {
            var writer = new SharedBudget(StatePath);
            writer.Update(s => { s.Day = 20260101; s.DayCount = 3; s.WindowLimit = 60; s.WindowLeft = 9; return 0; });
            var stamp = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
            File.SetLastWriteTimeUtc(StatePath, stamp);
            byte[] before = File.ReadAllBytes(StatePath);

            Assert.Equal(3, writer.Read().DayCount);
            Assert.Equal(9, new SharedBudget(StatePath).Read().WindowLeft);
            Assert.Equal(60, new RequestPacer(new SharedBudget(StatePath), 60, 1000).Snapshot().Limit);

            Assert.Equal(before, File.ReadAllBytes(StatePath));
            Assert.Equal(stamp, File.GetLastWriteTimeUtc(StatePath));

            string missing = Path.Combine(_dir, "none", "k.budget");
            Assert.Equal(0, new SharedBudget(missing).Read().DayCount);
            Assert.False(Directory.Exists(Path.GetDirectoryName(missing)));
        }

        [Fact]
        public async Task Read_under_another_process_s_lock_gives_the_last_state_without_an_exception()
        {
            var budget = new SharedBudget(StatePath, ShortPatience);
            await budget.UpdateAsync(s => s.DayCount = 2);
            using (new FileStream(StatePath, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                Assert.Equal(2, budget.Read().DayCount);
            AssertOneWarning(budget, StatePath);
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public async Task Concurrent_updates_from_two_budgets_on_one_file_lose_nothing(bool throughAnotherName)
        {
            File.WriteAllText(StatePath, "");
            // Through another name (a symbolic link) the two budgets have separate in-process gates, as two processes do,
            // so only the file lock keeps them apart.
            string otherPath = StatePath;
            if (throughAnotherName && !RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                otherPath = Path.Combine(_dir, "link.budget");
                File.CreateSymbolicLink(otherPath, StatePath);
            }
            var a = new SharedBudget(StatePath);
            var b = new SharedBudget(otherPath);
            const int perBudget = 60;
            // Holding the lock a little while each time makes the two meet at the lock.
            Func<BudgetState, int> slowIncrement = s => { Thread.Sleep(1); return ++s.DayCount; };
            var updates = Enumerable.Range(0, 2 * perBudget)
                .Select(i => Task.Run(() => (i % 2 == 0 ? a : b).UpdateAsync(slowIncrement)))
                .ToArray();
            int[] seen = await Task.WhenAll(updates);

            Assert.False(a.InMemory || b.InMemory);
            Assert.Equal(Enumerable.Range(1, 2 * perBudget), seen.OrderBy(v => v));
            Assert.Equal(2 * perBudget, FileState(StatePath).DayCount);
        }

        [Fact]
        public void A_shorter_state_written_over_a_longer_one_leaves_no_stale_digits()
        {
            var budget = new SharedBudget(StatePath);
            budget.Update(s => { s.NextSlot = long.MaxValue; s.PauseUntil = long.MaxValue; s.DayCount = 123456; return 0; });
            budget.Update(s => { s.NextSlot = 1; s.PauseUntil = 2; s.DayCount = 3; return 0; });
            var state = FileState(StatePath);
            Assert.Equal(new long[] { 1, 2, 3 }, new long[] { state.NextSlot, state.PauseUntil, state.DayCount });
            Assert.Equal(state.Serialize(), File.ReadAllText(StatePath).TrimEnd(' '));
            Assert.DoesNotContain("123456", File.ReadAllText(StatePath));
        }

        [Fact]
        public async Task Cancelling_a_wait_for_the_lock_frees_the_budget_for_the_next_caller()
        {
            var budget = new SharedBudget(StatePath, TimeSpan.FromSeconds(30));
            budget.Update(s => s.DayCount = 1);
            using (var cancel = new CancellationTokenSource())
            {
                Task<int> waiting;
                using (new FileStream(StatePath, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                    waiting = budget.UpdateAsync(s => ++s.DayCount, cancel.Token);
                    while (budget.OpenAttempts < 3) await Task.Delay(5);
                    cancel.Cancel();
                    await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
                }
            }
            Assert.Equal(2, await budget.UpdateAsync(s => ++s.DayCount));
            Assert.False(budget.InMemory);
        }

        /// <summary>Read-only even for root: the immutable attribute on Linux (root ignores the mode bits), the attribute elsewhere.</summary>
        private void MakeReadOnly(string path)
        {
            File.SetAttributes(path, FileAttributes.ReadOnly);
            _cleanup = () => File.SetAttributes(path, FileAttributes.Normal);
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows) && Writable(path))
            {
                Run("chattr", "+i", path);
                _cleanup = () => { Run("chattr", "-i", path); File.SetAttributes(path, FileAttributes.Normal); };
            }
            Assert.False(Writable(path), "the test could not make the file read-only");
        }

        private static bool Writable(string path)
        {
            try { using (new FileStream(path, FileMode.Open, FileAccess.ReadWrite)) return true; }
            catch (UnauthorizedAccessException) { return false; }
            catch (IOException) { return false; }
        }

        private static void Run(string file, params string[] args)
        {
            var psi = new ProcessStartInfo(file) { UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using (var p = Process.Start(psi)) p.WaitForExit();
        }

        public void Dispose()
        {
            _cleanup();
            if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
        }
    }
}
