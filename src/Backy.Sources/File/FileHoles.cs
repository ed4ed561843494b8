using System.Runtime.InteropServices;
using Backy.Storage.Backup;
using Backy.Storage.Chunks;
using Backy.Storage.IO;
using Microsoft.Win32.SafeHandles;

namespace Backy.Sources;

/// <summary>
/// Where a file's holes are, from lseek(2) SEEK_DATA/SEEK_HOLE. File systems that do not track holes (FUSE file
/// systems without an lseek handler, vfat, block devices) answer through the kernel's generic code, "everything
/// is data", so they simply yield no holes and every block is read; an lseek that fails with anything but ENXIO
/// ("no data after this offset") yields null for the same effect.
/// The walk steps block by block where data and holes alternate faster than blocks (a block with any data is
/// read anyway), so it costs at most two system calls per 4 MiB block however fragmented the file is.
/// </summary>
internal static class FileHoles
{
    private const int SEEK_DATA = FileSeek.SeekData;
    private const int SEEK_HOLE = FileSeek.SeekHole;
    private const int SEEK_END = FileSeek.SeekEnd;
    private const int ENXIO = FileSeek.ENXIO;

    private static long LSeek(SafeFileHandle fd, long offset, int whence) => FileSeek.Lseek(fd, offset, whence);

    /// <summary>The holes of the first <paramref name="size"/> bytes, or null when the file system cannot tell.</summary>
    public static KnownHoles? Find(SafeFileHandle handle, long size, int blockSize = Blocks.Size)
    {
        if (!OperatingSystem.IsLinux()) return null;
        // A file shorter than the snapshot's size must fail the read ("source ended early"), not read as holes.
        if (LSeek(handle, 0, SEEK_END) < size) return null;
        var holes = new KnownHoles(size, blockSize);
        long position = 0;
        while (position < size)
        {
            var data = LSeek(handle, position, SEEK_DATA);
            if (data < 0)
            {
                if (Marshal.GetLastPInvokeError() != ENXIO) return null;
                holes.AddHole(position, size - position); // no data from here to the end of the file
                break;
            }
            if (data > position) holes.AddHole(position, data - position);
            if (data >= size) break;
            var hole = LSeek(handle, data, SEEK_HOLE);
            if (hole < 0) return null;
            // The block holding the hole's first byte has data before it: go on at the next block boundary.
            position = (hole + blockSize - 1) / blockSize * blockSize;
        }
        return holes;
    }
}
