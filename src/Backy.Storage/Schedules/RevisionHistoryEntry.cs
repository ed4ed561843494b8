namespace Backy.Storage.Schedules;

/// <summary>
/// What the schedule arithmetic needs to know about one revision. Kept separate from the
/// on-disk revision type so that the schedule library can be tested (and used by the daemon)
/// without reading job directories.
/// </summary>
/// <param name="Id">The revision id.</param>
/// <param name="Timestamp">When the backup started (UTC).</param>
/// <param name="Tags">The revision's tags.</param>
/// <param name="IsComplete">False while the backup is still running or after it crashed
/// (no <c>stats.duration</c>): such a revision never satisfies a tag.</param>
public sealed record RevisionHistoryEntry(string Id, DateTimeOffset Timestamp, IReadOnlySet<string> Tags, bool IsComplete);
