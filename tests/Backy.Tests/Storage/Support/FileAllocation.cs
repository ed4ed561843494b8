using System.Runtime.InteropServices;

namespace Backy.Tests.Storage.Support;

/// <summary>How many bytes of a file are really allocated: SEEK_DATA/SEEK_HOLE walk, which needs no stat struct.</summary>
public static partial class FileAllocation
{
    private const int SEEK_DATA = 3;
    private const int SEEK_HOLE = 4;

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static partial long LSeek(int fd, long offset, int whence);

    public static long AllocatedBytes(string path)
    {
        using var handle = File.OpenHandle(path);
        var fd = (int)handle.DangerousGetHandle();
        long total = 0, pos = 0;
        while (true)
        {
            var data = LSeek(fd, pos, SEEK_DATA);
            if (data < 0) return total; // ENXIO: no more data
            var hole = LSeek(fd, data, SEEK_HOLE);
            total += hole - data;
            pos = hole;
        }
    }
}
