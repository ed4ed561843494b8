using Backy.Storage.Schedules;

namespace Backy.Tests.Schedules;

/// <summary>Builds revision histories for schedule tests.</summary>
internal static class History
{
    public static DateTimeOffset Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) =>
        new(y, mo, d, h, mi, s, TimeSpan.Zero);

    public static RevisionHistoryEntry Rev(DateTimeOffset at, params string[] tags) =>
        new($"rev-{at.UtcTicks}-{string.Join('+', tags)}", at, tags.ToHashSet(StringComparer.Ordinal), IsComplete: true);

    public static RevisionHistoryEntry Incomplete(DateTimeOffset at, params string[] tags) =>
        Rev(at, tags) with { IsComplete = false };

    public static Schedule Sched(params (string Tag, string Interval, int Keep)[] intervals) =>
        new(intervals.Select(i => new ScheduleInterval(i.Tag, Durations.Parse(i.Interval), i.Keep)));

    public static Schedule Daily(int keep = 5) => Sched(("daily", "1d", keep));

    public static HashSet<string> Tags(params string[] tags) => tags.ToHashSet(StringComparer.Ordinal);
}
