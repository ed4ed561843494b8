using Backy.Daemon.Config;

namespace Backy.Daemon.Scheduling;

/// <summary>
/// The daemon's control surface: everything the API (and tests) may ask of the scheduler. Kept
/// narrow on purpose; the gRPC services are thin adapters over it. Implemented by
/// <see cref="JobRegistry"/>, registered as a singleton in the host. All members are thread-safe.
/// </summary>
public interface IJobScheduler
{
    /// <summary>The configuration in force (swapped whole by a successful reload).</summary>
    DaemonConfig Config { get; }

    /// <summary>Raised after a reload put a new configuration in force (on the reloading thread).</summary>
    event Action<DaemonConfig>? ConfigChanged;

    /// <summary>Completes once every configured job is registered (the first scheduling); fails if that failed.
    /// The API listens before it (an unusable port must be fatal before any worker starts), so calls wait
    /// for it: a <c>client check</c> in the first moment after a start must not see fewer jobs than configured.</summary>
    Task Started { get; }

    /// <summary>A snapshot of every configured job, sorted by name (ordinal).</summary>
    IReadOnlyList<JobSnapshot> Jobs();

    /// <summary>Wakes the job's loop to run now with its next tags (a run in progress is followed
    /// by another one); false when no such job is configured.</summary>
    bool RunNow(string job);

    /// <summary>Re-reads the configuration file and applies it: added jobs start, changed jobs
    /// restart, removed jobs stop; running backups of unchanged jobs are not touched.</summary>
    /// <exception cref="Backy.Storage.ConfigException">The new file is invalid (all its errors in the
    /// message, <see cref="ConfigValidationException"/> when it could be parsed); the old
    /// configuration stays in force.</exception>
    Task<DaemonConfig> ReloadAsync(CancellationToken cancellationToken);
}
