using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Backy.Storage.IO;

/// <summary>What restore needs beyond .NET's file API: exclusive create, fstat of an open descriptor, write(2) on
/// descriptors .NET treats as streams, realpath.</summary>
internal static partial class Posix
{
    internal const int O_EXCL = 0x80;
    internal const int EEXIST = 17;
    internal const int EISDIR = 21;
    internal const int EPIPE = 32;

    internal const int SEEK_END = 2;

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    internal static partial long Lseek(int fd, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    internal static unsafe partial nint Write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Unlink(string path);

    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealpathNative(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);

    /// <summary>The canonical path (every symbolic link resolved), or null when it does not exist.</summary>
    internal static string? Realpath(string path)
    {
        var p = RealpathNative(path, 0);
        if (p == 0) return null;
        try { return Marshal.PtrToStringUTF8(p); }
        finally { Free(p); }
    }

    // statx: one struct layout on every architecture (struct stat differs between x86_64 and aarch64).
    private const int AT_FDCWD = -100;
    private const int AT_EMPTY_PATH = 0x1000;
    private const int AT_SYMLINK_NOFOLLOW = 0x100;
    private const uint STATX_BASIC_STATS = 0x7ff;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int StatxNative(int dirfd, string path, int flags, uint mask, byte* buffer);

    internal enum FileKind { Regular, Directory, BlockDevice, CharacterDevice, Fifo, Socket, SymbolicLink, Other }

    /// <summary>Type, identity and size of a file (from statx).</summary>
    internal readonly record struct FileStatus(FileKind Kind, ulong Device, ulong Inode, long Size);

    /// <summary>fstat of an open descriptor; errno in <see cref="Marshal.GetLastPInvokeError"/> on null.</summary>
    internal static FileStatus? Fstat(int fd) => Statx(fd, "", AT_EMPTY_PATH);

    /// <summary>lstat: the path itself, a symbolic link not followed.</summary>
    internal static FileStatus? Lstat(string path) => Statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW);

    private static unsafe FileStatus? Statx(int dirfd, string path, int flags)
    {
        Span<byte> buffer = stackalloc byte[256];
        fixed (byte* b = buffer)
            if (StatxNative(dirfd, path, flags, STATX_BASIC_STATS, b) != 0) return null;
        var mode = BinaryPrimitives.ReadUInt16LittleEndian(buffer[28..]);
        var kind = (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0x6000 => FileKind.BlockDevice,
            0x2000 => FileKind.CharacterDevice,
            0x1000 => FileKind.Fifo,
            0xC000 => FileKind.Socket,
            0xA000 => FileKind.SymbolicLink,
            _ => FileKind.Other,
        };
        var device = ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(buffer[136..]) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(buffer[140..]);
        return new FileStatus(kind, device, BinaryPrimitives.ReadUInt64LittleEndian(buffer[32..]), BinaryPrimitives.ReadInt64LittleEndian(buffer[40..]));
    }
}
