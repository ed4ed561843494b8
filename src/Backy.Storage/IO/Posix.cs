using System.Runtime.InteropServices;

namespace Backy.Storage.IO;

/// <summary>The few libc calls .NET does not offer: flock that waits, fsync of a directory, syncfs, xattrs.</summary>
internal static partial class Posix
{
    // Identical on x86_64 and aarch64 Linux.
    internal const int O_RDONLY = 0;
    internal const int O_RDWR = 2;
    internal const int O_CREAT = 0x40;
    internal const int O_CLOEXEC = 0x80000;
    internal const int O_WRONLY = 1;

    /// <summary>O_DIRECT is the one open flag here that differs between the two architectures.</summary>
    internal static int O_DIRECT => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x10000 : 0x4000;

    internal const int LOCK_SH = 1;
    internal const int LOCK_EX = 2;
    internal const int LOCK_NB = 4;
    internal const int LOCK_UN = 8;

    internal const int EPERM = 1;
    internal const int ENOENT = 2;
    internal const int EINTR = 4;
    internal const int EACCES = 13;
    internal const int ENOTDIR = 20;
    internal const int EROFS = 30;
    internal const int EWOULDBLOCK = 11;
    internal const int EINVAL = 22;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    internal static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    internal static partial int Syncfs(int fd);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    internal static partial int Flock(int fd, int operation);

    internal const int SYNC_FILE_RANGE_WRITE = 2;

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    internal static partial int SyncFileRange(int fd, long offset, long nbytes, int flags);

    internal const int F_SETPIPE_SZ = 1031;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Link(string existing, string created);

    [LibraryImport("libc", EntryPoint = "fgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial nint Fgetxattr(int fd, string name, byte* value, nuint size);

    [LibraryImport("libc", EntryPoint = "fsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int Fsetxattr(int fd, string name, byte* value, nuint size, int flags);

    internal static string ErrorText(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}
