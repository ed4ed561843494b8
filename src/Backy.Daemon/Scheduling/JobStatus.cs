using Backy.Daemon.Workers;

namespace Backy.Daemon.Scheduling;

/// <summary>The status strings <c>backy client</c> shows, exactly as the original (manual, "client
/// status"; DESIGN 7). Monitoring scripts match on them, so they are frozen.</summary>
public static class JobStatus
{
    /// <summary>A directory in base-dir without a configured job.</summary>
    public const string Dead = "Dead";
    public const string WaitingForDeadline = "waiting for deadline";
    public const string Failed = "failed";
    public const string Finished = "finished";

    public static string WaitingForSlot(Speed speed) => $"waiting for worker slot ({speed.Name()})";

    public static string Running(Speed speed) => $"running ({speed.Name()})";

    public static bool IsRunning(string status) => status.StartsWith("running", StringComparison.Ordinal);
}
