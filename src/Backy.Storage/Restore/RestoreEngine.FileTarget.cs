using System.Runtime.InteropServices;
using Backy.Storage.IO;
using Microsoft.Win32.SafeHandles;

namespace Backy.Storage.Restore;

public sealed partial class RestoreEngine
{
    /// <summary>
    /// A file or block device. Whole aligned blocks go through a second descriptor opened with O_DIRECT:
    /// buffered writes first copy every byte into the page cache and then wait for writeback, which on the
    /// development VM ran at a third of the disk's direct-write speed, and a restore of hundreds of GiB
    /// would evict the backup server's whole cache for data nobody reads again. The unaligned tail of an
    /// image, and every write on a file system that refuses O_DIRECT (EINVAL at open or first write), go
    /// through the ordinary descriptor; the final fsync on it covers both.
    /// </summary>
    private sealed class FileTarget(SafeFileHandle handle, string path, bool device) : ITarget, IDisposable
    {
        private SafeFileHandle? _direct = OpenDirect(path);
        private bool _directProven;

        // A fresh (truncated) regular file of the right length reads as zeros where nothing is written.
        public void Prepare(long size)
        {
            if (!device) RandomAccess.SetLength(handle, size);
        }

        public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            if (_direct is not null && AlignedBlock.IsDirectWritable(data.Span, offset))
            {
                try
                {
                    RandomAccess.Write(_direct, data.Span, offset);
                    _directProven = true;
                    return ValueTask.CompletedTask;
                }
                catch (IOException) when (!_directProven)
                {
                    // The first direct write failed (a file system that accepts the flag but not the I/O):
                    // give direct I/O up for this target; a real disk error repeats on the buffered write.
                    _direct.Dispose();
                    _direct = null;
                }
            }
            RandomAccess.Write(handle, data.Span, offset);
            DurableFile.StartWriteback(handle, offset, data.Length);
            return ValueTask.CompletedTask;
        }

        public ValueTask WriteHoleAsync(long offset, ReadOnlyMemory<byte> zeros, CancellationToken cancellationToken) =>
            device ? WriteAsync(offset, zeros, cancellationToken) : ValueTask.CompletedTask;

        public Task FinishAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose() => _direct?.Dispose();

        private static SafeFileHandle? OpenDirect(string path)
        {
            if (!OperatingSystem.IsLinux()) return null;
            var fd = Posix.Open(path, Posix.O_WRONLY | Posix.O_DIRECT | Posix.O_CLOEXEC, 0);
            return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
        }
    }
}
