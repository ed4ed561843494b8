namespace Backy.Storage.Locks;

/// <summary>
/// Another process holds the job's backup lock: nothing is wrong, the caller should retry later
/// (the API answers Unavailable). A type of its own so callers need not re-probe the lock to guess.
/// </summary>
public sealed class JobLockedException(string message) : BackyException(message);
