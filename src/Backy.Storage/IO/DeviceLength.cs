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
    /// <summary>lseek(fd, 0, SEEK_END); <see cref="NotSupportedException"/> when the descriptor cannot seek (FIFO, socket, character device).</summary>
    public static long Of(SafeFileHandle handle, string pathForErrors)
    {
        if (!OperatingSystem.IsLinux()) return RandomAccess.GetLength(handle);
        var end = Posix.Lseek((int)handle.DangerousGetHandle(), 0, Posix.SEEK_END);
        if (end >= 0) return end;
        var errno = Marshal.GetLastPInvokeError();
        if (errno == 29 /* ESPIPE */) throw new NotSupportedException($"'{pathForErrors}' cannot seek");
        throw new IOException($"cannot find the size of '{pathForErrors}': {Posix.ErrorText(errno)}");
    }
}
