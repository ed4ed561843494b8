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
    private int[]? _fds;

    private FileLock(int[] fds) => _fds = fds;

    /// <summary>Takes the lock or returns null at once when someone else holds a conflicting one.</summary>
    public static FileLock? TryAcquire(string path, bool exclusive) => TryAcquireAll([path], exclusive);

    /// <summary>
    /// Locks every path in order, all or nothing (null at once when any is held by someone else). A path that
    /// is a directory is locked on the directory itself; any other is a lock file, created when missing.
    /// </summary>
    public static FileLock? TryAcquireAll(IReadOnlyList<string> paths, bool exclusive)
    {
        var held = new List<int>(paths.Count);
        try
        {
            var skipped = 0;
            foreach (var path in paths)
            {
                var fd = Open(path, exclusive);
                if (fd == NoLockFile)
                {
                    skipped++;
                    continue;
                }
                if (Posix.Flock(fd, (exclusive ? Posix.LOCK_EX : Posix.LOCK_SH) | Posix.LOCK_NB) == 0)
                {
                    held.Add(fd);
                    continue;
                }
                var errno = Marshal.GetLastPInvokeError();
                Posix.Close(fd);
                if (errno == Posix.EWOULDBLOCK) break;
                throw new BackyException($"cannot lock '{path}': {Posix.ErrorText(errno)}");
            }
            if (held.Count + skipped == paths.Count)
            {
                var l = new FileLock([.. held]);
                held.Clear();
                return l;
            }
            return null;
        }
        finally
        {
            foreach (var fd in held) Posix.Close(fd);
        }
    }

    /// <summary>Waits for all of <see cref="TryAcquireAll"/>'s locks, never holding some while waiting for others. Polls so
    /// that cancellation works (flock itself cannot be cancelled).</summary>
    public static async Task<FileLock> AcquireAllAsync(IReadOnlyList<string> paths, bool exclusive, CancellationToken cancellationToken)
    {
        // 50 ms: short against the operations that wait (a restore, a purge), invisible in CPU load.
        while (true)
        {
            var l = TryAcquireAll(paths, exclusive);
            if (l is not null) return l;
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A shared lock whose lock file a read-only user cannot create: the directory lock beside it
    /// (JobLocks always pairs them) keeps the exclusion, so this path is skipped.</summary>
    private const int NoLockFile = -2;

    /// <summary>
    /// A lock file is opened for writing (and created) when the user may; a user with read access only
    /// (another uid restoring from a world-readable job directory) opens it read-only: flock does not
    /// care how the file was opened. When such a user cannot even create a missing lock file, a shared
    /// lock goes on with the directory lock alone (<see cref="NoLockFile"/>).
    /// </summary>
    private static int Open(string path, bool exclusive)
    {
        var directory = Directory.Exists(path);
        var fd = directory
            ? Posix.Open(path, Posix.O_RDONLY | Posix.O_CLOEXEC, 0)
            : Posix.Open(path, Posix.O_RDWR | Posix.O_CREAT | Posix.O_CLOEXEC, Convert.ToInt32("644", 8));
        var errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        if (fd < 0 && !directory && errno is Posix.EACCES or Posix.EPERM or Posix.EROFS)
        {
            fd = Posix.Open(path, Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
            if (fd < 0 && Marshal.GetLastPInvokeError() == Posix.ENOENT && !exclusive)
                return NoLockFile;
        }
        if (fd < 0)
            throw new BackyException($"cannot open {(directory ? "directory" : "lock file")} '{path}': {Posix.ErrorText(errno)}");
        return fd;
    }

    public void Dispose()
    {
        var fds = Interlocked.Exchange(ref _fds, null);
        if (fds is null) return;
        foreach (var fd in fds) Posix.Close(fd); // closing the last descriptor releases the flock
    }
}
