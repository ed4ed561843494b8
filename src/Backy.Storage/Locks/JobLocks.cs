namespace Backy.Storage.Locks;

/// <summary>
/// The lock files of a job directory. Lock order: <c>.backup</c> before <c>.purge</c>, never the other way.
/// <list type="bullet">
/// <item><c>.backup</c> exclusive, non-blocking: backup, verify, forget, expire, tags, distrust.</item>
/// <item><c>.purge</c> shared (waits): backup, restore, verify; exclusive (waits): purge.</item>
/// </list>
/// </summary>
public static class JobLocks
{
    public const string BackupLockName = ".backup";
    public const string PurgeLockName = ".purge";

    /// <summary>Fails at once with a clear message when another process changes the job.</summary>
    public static FileLock AcquireBackup(string jobDirectory, string action)
    {
        var path = Path.Combine(jobDirectory, BackupLockName);
        return FileLock.TryAcquire(path, exclusive: true)
            ?? throw new BackyException($"cannot {action} job '{jobDirectory}': another backup or revision change is running (lock {path} is held)");
    }

    public static Task<FileLock> AcquirePurgeSharedAsync(string jobDirectory, CancellationToken cancellationToken) =>
        FileLock.AcquireAsync(Path.Combine(jobDirectory, PurgeLockName), exclusive: false, cancellationToken);

    public static Task<FileLock> AcquirePurgeExclusiveAsync(string jobDirectory, CancellationToken cancellationToken) =>
        FileLock.AcquireAsync(Path.Combine(jobDirectory, PurgeLockName), exclusive: true, cancellationToken);
}
