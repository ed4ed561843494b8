namespace Backy.Daemon.Scheduling;

/// <summary>When a job runs next and with which tags.</summary>
public sealed record PlannedRun(DateTimeOffset Time, IReadOnlySet<string> Tags);
