using Backy.Storage.Revisions;
using Backy.Storage.Schedules;

namespace Backy.Storage.Editing;

/// <summary>Adapts revisions to the schedule library's view of them.</summary>
public static class HistoryEntries
{
    public static RevisionHistoryEntry ToHistoryEntry(this Revision r) => new(r.Id, r.Timestamp, r.Tags, r.IsComplete);

    public static IReadOnlyList<RevisionHistoryEntry> ToHistory(this IEnumerable<Revision> revisions) =>
        revisions.Select(ToHistoryEntry).ToArray();
}
