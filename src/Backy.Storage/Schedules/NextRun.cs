namespace Backy.Storage.Schedules;

/// <summary>When a job runs next and with which tags.</summary>
/// <param name="Time">The moment the backup should start.</param>
/// <param name="Tags">The tags the new revision gets.</param>
public sealed record NextRun(DateTimeOffset Time, IReadOnlySet<string> Tags);
