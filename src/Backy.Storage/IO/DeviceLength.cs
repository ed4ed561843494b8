using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Backy.Storage.IO;

/// <summary>
/// The length of an open regular file or block device. fstat gives a block device st_size 0, and .NET's
/// <c>FileStream.Seek(0, SeekOrigin.End)</c> and <c>RandomAccess.GetLength</c> answer from fstat, so a /dev/loop0
/// or /dev/sdb looked empty (a backup of 0 bytes, a restore refused for "the device holds 0 bytes"). lseek(2) to
/// the end asks the device itself.
/// </summary>
public static class DeviceLength
{
    /// <summary>
    /// The length of a backup source. Only a regular file or a block device has a size that a backup can take whole:
    /// a character device seeks without complaint and then reads as 0 bytes (/dev/null) or without end (/dev/zero),
    /// which backed up /dev/null as an empty revision with exit 0. <see cref="NotSupportedException"/> (naming the
    /// kind) for anything else.
    /// </summary>
    public static long OfSource(SafeFileHandle handle, string pathForErrors)
    {
        if (OperatingSystem.IsLinux() && Posix.Fstat((int)handle.DangerousGetHandle()) is { } status
            && status.Kind is not (Posix.FileKind.Regular or Posix.FileKind.BlockDevice))
            throw new NotSupportedException(status.Kind switch
            {
                Posix.FileKind.CharacterDevice => "a character device",
                Posix.FileKind.Fifo => "a FIFO",
                Posix.FileKind.Socket => "a socket",
                Posix.FileKind.Directory => "a directory",
                _ => "not a file",
            });
        return Of(handle, pathForErrors);
    }

    /// <summary>lseek(fd, 0, SEEK_END); <see cref="NotSupportedException"/> when the descriptor cannot seek (FIFO, socket, character device).</summary>
    public static long Of(SafeFileHandle handle, string pathForErrors)
    {
        if (!OperatingSystem.IsLinux()) return RandomAccess.GetLength(handle);
        var end = Posix.Lseek((int)handle.DangerousGetHandle(), 0, Posix.SEEK_END);
        if (end >= 0) return end;
        var errno = Marshal.GetLastPInvokeError();
        if (errno == 29 /* ESPIPE */) throw new NotSupportedException("cannot seek");
        throw new IOException($"cannot find the size of '{pathForErrors}': {Posix.ErrorText(errno)}");
    }
}
