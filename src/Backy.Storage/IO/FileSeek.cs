using Microsoft.Win32.SafeHandles;

namespace Backy.Storage.IO;

/// <summary>
/// lseek(2) for code outside Storage (the file source's hole walk), so that the process has one lseek import
/// (<see cref="Posix"/>). The constants are the same on every Linux architecture.
/// </summary>
public static class FileSeek
{
    public const int SeekEnd = Posix.SEEK_END;
    public const int SeekData = 3;
    public const int SeekHole = 4;

    /// <summary>errno of a SEEK_DATA/SEEK_HOLE at or past the last data: "no data after this offset".</summary>
    public const int ENXIO = 6;

    /// <summary>The new offset, or -1 with the errno in <see cref="System.Runtime.InteropServices.Marshal.GetLastPInvokeError"/>.</summary>
    public static long Lseek(SafeFileHandle handle, long offset, int whence) =>
        Posix.Lseek((int)handle.DangerousGetHandle(), offset, whence);
}
