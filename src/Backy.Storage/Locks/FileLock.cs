using System.Runtime.InteropServices;
using Backy.Storage.IO;

namespace Backy.Storage.Locks;

/// <summary>
/// An flock(2) on a lock file: works between processes, released by the kernel when the process
/// dies (so a killed backup never leaves a stale lock). We call libc directly because .NET's own
/// FileShare locking is non-blocking only and would take a lock of its own on the same file.
/// </summary>
public sealed class FileLock : IDisposable
{
    private int _fd;

    private FileLock(int fd) => _fd = fd;

    /// <summary>Takes the lock or returns null at once when someone else holds a conflicting one.</summary>
    public static FileLock? TryAcquire(string path, bool exclusive)
    {
        var fd = OpenLockFile(path);
        if (Posix.Flock(fd, (exclusive ? Posix.LOCK_EX : Posix.LOCK_SH) | Posix.LOCK_NB) == 0)
            return new FileLock(fd);
        var errno = Marshal.GetLastPInvokeError();
        Posix.Close(fd);
        if (errno == Posix.EWOULDBLOCK) return null;
        throw new BackyException($"cannot lock '{path}': {Posix.ErrorText(errno)}");
    }

    /// <summary>Waits for the lock. Polls so that cancellation works (flock itself cannot be cancelled).</summary>
    public static async Task<FileLock> AcquireAsync(string path, bool exclusive, CancellationToken cancellationToken)
    {
        // 50 ms: short against the operations that wait (a restore, a purge), invisible in CPU load.
        while (true)
        {
            var l = TryAcquire(path, exclusive);
            if (l is not null) return l;
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    private static int OpenLockFile(string path)
    {
        var fd = Posix.Open(path, Posix.O_RDWR | Posix.O_CREAT | Posix.O_CLOEXEC, Convert.ToInt32("644", 8));
        if (fd < 0)
            throw new BackyException($"cannot open lock file '{path}': {Posix.ErrorText(Marshal.GetLastPInvokeError())}");
        return fd;
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) Posix.Close(fd); // closing the last descriptor releases the flock
    }
}
