using System.IO.Hashing;
using System.Text;
using Backy.Storage.Schedules;

namespace Backy.Daemon.Scheduling;

/// <summary>When a job runs next and with which tags.</summary>
public sealed record PlannedRun(DateTimeOffset Time, IReadOnlySet<string> Tags);

/// <summary>
/// The daemon's single entry to the schedule arithmetic of DESIGN 6 (spread, next run, missed tags,
/// SLA). INTERIM: a faithful copy until the schedule library (Backy.Storage/Schedules: JobSpread,
/// Schedule.Next, Sla) is on main; then each method becomes one call into it.
/// </summary>
public static class ScheduleMath
{
    private static readonly TimeSpan CatchUpGrace = TimeSpan.FromMinutes(5);
    private const double SlaTolerance = 1.5;

    public static TimeSpan Spread(string job, Schedule schedule)
    {
        if (schedule.Intervals.Count == 0)
            return TimeSpan.Zero;
        var longest = (ulong)schedule.Intervals.Max(i => i.Interval).TotalSeconds;
        var hash = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(job));
        return TimeSpan.FromSeconds((long)(hash % (longest + 1)));
    }

    public static PlannedRun Next(string job, Schedule schedule, DateTimeOffset now, IReadOnlyList<JobRevision> history)
    {
        var spread = Spread(job, schedule);
        var byTime = schedule.Intervals.GroupBy(i => NextAfter(now, i.Interval, spread)).MinBy(g => g.Key)!;
        var idealTags = byTime.Select(i => i.Tag).ToHashSet(StringComparer.Ordinal);
        var complete = history.Where(r => r.IsComplete).ToArray();
        var missed = schedule.Intervals
            .Where(i => !complete.Any(r => r.Tags.Contains(i.Tag) && r.Timestamp > now - i.Interval))
            .Select(i => i.Tag).ToHashSet(StringComparer.Ordinal);
        if (missed.Count == 0)
            return new PlannedRun(byTime.Key, idealTags);
        if (history.Count > 0 && byTime.Key > now + CatchUpGrace)
            return new PlannedRun(now, missed);
        idealTags.UnionWith(missed);
        return new PlannedRun(byTime.Key, idealTags);
    }

    /// <summary>Overdue = newest complete revision older than 1.5 x the shortest interval.</summary>
    public static (bool Overdue, TimeSpan Age) Sla(Schedule schedule, IReadOnlyList<JobRevision> history, DateTimeOffset now)
    {
        var newest = history.Where(r => r.IsComplete).Select(r => (DateTimeOffset?)r.Timestamp).Max();
        if (newest is null || schedule.Intervals.Count == 0)
            return (false, TimeSpan.Zero);
        var age = now - newest.Value;
        return age > schedule.Intervals.Min(i => i.Interval) * SlaTolerance ? (true, age) : (false, TimeSpan.Zero);
    }

    private static DateTimeOffset NextAfter(DateTimeOffset now, TimeSpan interval, TimeSpan spread)
    {
        var shift = spread.Ticks % interval.Ticks;
        var current = (now.UtcTicks - shift) / interval.Ticks;
        return new DateTimeOffset((current + 1) * interval.Ticks + shift, TimeSpan.Zero);
    }
}
