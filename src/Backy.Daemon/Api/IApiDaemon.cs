using Backy.Daemon.Config;

namespace Backy.Daemon.Api;

/// <summary>
/// What the gRPC API needs from the daemon: the configuration in force, job snapshots, run now and
/// reload. The services in this folder are thin adapters over it.
/// </summary>
public interface IApiDaemon
{
    /// <summary>The configuration in force (swapped whole by a reload).</summary>
    DaemonConfig Config { get; }

    /// <summary>Raised after a reload put a new configuration in force.</summary>
    event Action<DaemonConfig>? ConfigChanged;

    /// <summary>A consistent snapshot of every configured job.</summary>
    IReadOnlyList<JobSnapshot> Jobs();

    /// <summary>Wakes the job's loop to run now; false when no such job is configured.</summary>
    bool RunNow(string job);

    /// <summary>Re-reads the configuration file and applies it.</summary>
    /// <exception cref="Backy.Storage.ConfigException">The file is invalid; the old configuration stays.</exception>
    Task<DaemonConfig> ReloadAsync(CancellationToken cancellationToken);
}

/// <summary>The state of one job as the daemon sees it.</summary>
/// <param name="Status">"waiting for deadline", "running (fast)", "failed", ... (DESIGN 7).</param>
/// <param name="SlaOverdue">How far past its SLA the job is; zero when within it.</param>
/// <param name="LastTags">Tags of the newest complete revision, shortest interval first.</param>
public sealed record JobSnapshot(
    string Name,
    string ScheduleName,
    string Status,
    bool SlaOk,
    TimeSpan SlaOverdue,
    DateTimeOffset? LastTime,
    IReadOnlyList<string> LastTags,
    TimeSpan? LastDuration,
    DateTimeOffset? NextTime,
    IReadOnlyList<string> NextTags);
