using System;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace CalStudio.Journal
{
    /// <summary>
    /// The few libc calls .NET does not offer on Linux and macOS: open(2) without following links and with the mode
    /// given in the creation call itself (0600, never a chmod afterwards), and flock(2) on a handle of our own.
    /// Never called on Windows (Windows PowerShell 5.1 included), where <see cref="IsUnix"/> is false.
    /// </summary>
    internal static class UnixFile
    {
        public static readonly bool IsUnix = Path.DirectorySeparatorChar == '/';

        private static readonly bool IsMac = IsUnix && Describe("OSDescription").IndexOf("Darwin", StringComparison.OrdinalIgnoreCase) >= 0;
        // Apple's arm64 ABI passes variadic arguments on the stack: open's mode must be the first stack argument.
        private static readonly bool ModeOnStack = IsMac && Describe("ProcessArchitecture") == "Arm64";

        private const int LockExclusive = 2, LockNonBlocking = 4; // the same on Linux and macOS
        private static readonly int Create = IsMac ? 0x200 : 0x40;
        private static readonly int Exclusive = IsMac ? 0x800 : 0x80;
        private static readonly int NoFollow = IsMac ? 0x100 : 0x20000;
        private static readonly int CloseOnExec = IsMac ? 0x1000000 : 0x80000;
        private const int ReadOnly = 0, ReadWrite = 2;
        private const int OwnerOnly = 0x180; // 0600

        public static readonly int WouldBlock = IsMac ? 35 : 11;
        public static readonly int TooManyLinks = IsMac ? 62 : 40; // ELOOP: O_NOFOLLOW met a symbolic link
        private static readonly int AlreadyExists = 17;              // EEXIST, the same on both

        /// <summary>Opens read-write, creating it 0600 if missing, never through a link. Throws UnixFileException (errno).</summary>
        public static FileStream OpenOwnerOnlyNoFollow(string path) =>
            Wrap(Open(path, ReadWrite | Create | NoFollow | CloseOnExec), FileAccess.ReadWrite, path);

        /// <summary>Opens for reading without following a link and without any lock; null when it cannot be opened.</summary>
        public static FileStream TryOpenReadNoFollow(string path)
        {
            try { return Wrap(Open(path, ReadOnly | NoFollow | CloseOnExec), FileAccess.Read, path); }
            catch (UnixFileException) { return null; }
        }

        /// <summary>Creates an empty file 0600 if nothing is at the path (a link there included); a no-op otherwise and on error.</summary>
        public static void CreateOwnerOnly(string path)
        {
            if (!IsUnix) return;
            try { Wrap(Open(path, ReadWrite | Create | Exclusive | NoFollow | CloseOnExec), FileAccess.ReadWrite, path).Dispose(); }
            catch (UnixFileException ex) when (ex.Errno == AlreadyExists) { }
            catch (UnixFileException) { } // the ordinary open that follows reports the problem in .NET's own words
        }

        /// <summary>Takes flock LOCK_EX without waiting; false when another open file holds a lock on it.</summary>
        public static bool TryLockExclusive(FileStream stream)
        {
            int result = flock(stream.SafeFileHandle.DangerousGetHandle().ToInt32(), LockExclusive | LockNonBlocking);
            if (result == 0) return true;
            int errno = Marshal.GetLastWin32Error();
            if (errno == WouldBlock) return false;
            throw new UnixFileException(errno, "flock", stream.Name);
        }

        private static int Open(string path, int flags)
        {
            byte[] name = Encoding.UTF8.GetBytes(path + "\0");
            int fd = ModeOnStack ? open_stack(name, flags, 0, 0, 0, 0, 0, 0, OwnerOnly) : open(name, flags, OwnerOnly);
            if (fd < 0) throw new UnixFileException(Marshal.GetLastWin32Error(), "open", path);
            return fd;
        }

        private static FileStream Wrap(int fd, FileAccess access, string path)
        {
            var handle = new SafeFileHandle(new IntPtr(fd), ownsHandle: true);
            try { return new FileStream(handle, access, 1); } // bufferSize 1: every write goes to the OS at once
            catch
            {
                handle.Dispose();
                throw;
            }
        }

        /// <summary>RuntimeInformation by reflection: the type is not in .NET Framework 4.6.2's box (never Unix anyway).</summary>
        private static string Describe(string property)
        {
            var type = Type.GetType("System.Runtime.InteropServices.RuntimeInformation, System.Runtime.InteropServices.RuntimeInformation", false)
                       ?? Type.GetType("System.Runtime.InteropServices.RuntimeInformation, System.Runtime.InteropServices", false);
            try { return type?.GetProperty(property, BindingFlags.Public | BindingFlags.Static)?.GetValue(null)?.ToString() ?? ""; }
            catch (Exception) { return ""; }
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int open(byte[] path, int flags, int mode);

        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        private static extern int open_stack(byte[] path, int flags, long r2, long r3, long r4, long r5, long r6, long r7, long mode);

        /// <summary>The C library's words for an errno ("No space left on device").</summary>
        public static string Explain(int errno)
        {
            try { return Marshal.PtrToStringAnsi(strerror(errno)) ?? "error"; }
            catch (Exception) { return "error"; }
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int flock(int fd, int operation);

        [DllImport("libc")]
        private static extern IntPtr strerror(int errno);
    }

    /// <summary>A libc call failed; <see cref="Errno"/> is the platform's errno.</summary>
    internal sealed class UnixFileException : IOException
    {
        public UnixFileException(int errno, string call, string path)
            : base(call + "('" + path + "') failed: " + (errno == UnixFile.TooManyLinks ? "the path is a symbolic link" : UnixFile.Explain(errno)) + " (errno " + errno + ")")
        {
            Errno = errno;
        }

        public int Errno { get; }
    }
}
