using Backy.Storage.Jobs;

namespace Backy.Storage.Locks;

/// <summary>
/// The locks of a job directory. Lock order: backup before purge, never the other way.
/// <list type="bullet">
/// <item>backup: exclusive, non-blocking: backup, verify, forget, expire, tags, distrust.</item>
/// <item>purge: shared (waits): backup, restore, verify; exclusive (waits): purge.</item>
/// </list>
/// Each is an flock on the original's lock file (<c>.backup</c>, <c>.purge</c>: what the original and operators
/// know) AND on a directory: the job directory for backup, <c>chunks/</c> for purge. The lock files alone are not
/// enough: when one is deleted while held, the next process creates a new file and locks that, and would run
/// beside the holder (a purge beside a backup sweeps the backup's new chunks). A directory that holds the job's
/// data cannot be deleted by accident, so its lock survives.
/// </summary>
public static class JobLocks
{
    /// <summary>Fails at once with a clear message when another process changes the job.</summary>
    public static FileLock AcquireBackup(string jobDirectory, string action) =>
        TryAcquireBackup(jobDirectory)
            ?? throw new JobLockedException($"cannot {action} job '{jobDirectory}': another backup or revision change is running (lock {Path.Combine(jobDirectory, JobLayout.BackupLockName)} is held)");

    /// <summary>The backup lock, or null at once when someone holds it.</summary>
    public static FileLock? TryAcquireBackup(string jobDirectory) =>
        FileLock.TryAcquireAll(BackupTargets(jobDirectory), exclusive: true);

    /// <summary>The exclusive purge lock, or null at once when a backup, restore, verify or purge holds it.</summary>
    public static FileLock? TryAcquirePurgeExclusive(string jobDirectory) =>
        FileLock.TryAcquireAll(PurgeTargets(jobDirectory), exclusive: true);

    public static Task<FileLock> AcquirePurgeSharedAsync(string jobDirectory, CancellationToken cancellationToken) =>
        FileLock.AcquireAllAsync(PurgeTargets(jobDirectory), exclusive: false, cancellationToken);

    public static Task<FileLock> AcquirePurgeExclusiveAsync(string jobDirectory, CancellationToken cancellationToken) =>
        FileLock.AcquireAllAsync(PurgeTargets(jobDirectory), exclusive: true, cancellationToken);

    // Both locks flock a directory of the job: it must exist, or FileLock would create a lock *file* in its place.
    private static string[] BackupTargets(string jobDirectory) =>
        [RequireDirectory(jobDirectory), Path.Combine(jobDirectory, JobLayout.BackupLockName)];

    private static string[] PurgeTargets(string jobDirectory)
    {
        // chunks/ is where purge deletes; a job that never had a backup gets it here (it is empty then).
        RequireDirectory(jobDirectory);
        var chunks = Path.Combine(jobDirectory, JobLayout.ChunksDirectoryName);
        Directory.CreateDirectory(chunks);
        return [chunks, Path.Combine(jobDirectory, JobLayout.PurgeLockName)];
    }

    private static string RequireDirectory(string jobDirectory) => Directory.Exists(jobDirectory)
        ? Path.GetFullPath(jobDirectory)
        : throw new BackyException($"job directory '{jobDirectory}' does not exist");
}
