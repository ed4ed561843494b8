namespace Backy.Storage.Schedules;

public sealed partial class Schedule
{
    /// <summary>
    /// Catch-up runs wait for the regular run instead when that is at most this far away, so a
    /// restarted daemon does not start a backup minutes before the scheduled one (original: 5 min).
    /// </summary>
    public static readonly TimeSpan CatchUpGrace = TimeSpan.FromMinutes(5);

    /// <summary>
    /// When the job runs next and with which tags (the original's <c>Schedule.next</c>):
    /// the earliest boundary of any tag, carrying every tag due then plus every missed tag; or,
    /// when the job has history and that boundary is more than <see cref="CatchUpGrace"/>
    /// away, <paramref name="now"/> with only the missed tags.
    /// </summary>
    /// <param name="now">The current time.</param>
    /// <param name="spread">The job's spread (<see cref="JobSpread"/>).</param>
    /// <param name="history">All revisions of the job, complete or not.</param>
    public NextRun Next(DateTimeOffset now, TimeSpan spread, IEnumerable<RevisionHistoryEntry> history)
    {
        var revisions = history as IReadOnlyCollection<RevisionHistoryEntry> ?? history.ToArray();
        var ideal = NextIdeal(now, spread);
        var missed = Missed(now, revisions);
        if (missed.Count == 0)
            return ideal;
        // "Has history" counts every revision, also incomplete ones, as the original does.
        if (revisions.Count > 0 && ideal.Time > now + CatchUpGrace)
            return new NextRun(now, missed);
        var tags = new HashSet<string>(ideal.Tags, StringComparer.Ordinal);
        tags.UnionWith(missed);
        return new NextRun(ideal.Time, tags);
    }

    /// <inheritdoc cref="Next(DateTimeOffset, TimeSpan, IEnumerable{RevisionHistoryEntry})"/>
    public NextRun Next(TimeProvider clock, TimeSpan spread, IEnumerable<RevisionHistoryEntry> history) =>
        Next(clock.GetUtcNow(), spread, history);

    /// <summary>The next regular run ignoring history: the earliest boundary after
    /// <paramref name="now"/> of any tag, with every tag whose boundary falls on it.</summary>
    public NextRun NextIdeal(DateTimeOffset now, TimeSpan spread)
    {
        RequireIntervals();
        var byTime = Intervals
            .GroupBy(i => IntervalBoundary.NextAfter(now, i.Interval, spread))
            .MinBy(g => g.Key)!;
        return new NextRun(byTime.Key, byTime.Select(i => i.Tag).ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>
    /// Schedule tags without a complete revision carrying them within one interval back from
    /// <paramref name="now"/> (strictly newer than now - interval). Ad-hoc and <c>manual:</c>
    /// tags never count.
    /// </summary>
    public IReadOnlySet<string> Missed(DateTimeOffset now, IEnumerable<RevisionHistoryEntry> history)
    {
        var complete = history.Where(r => r.IsComplete).ToArray();
        var missed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var interval in Intervals)
        {
            var satisfied = complete.Any(r => r.Tags.Contains(interval.Tag) && r.Timestamp > now - interval.Interval);
            if (!satisfied)
                missed.Add(interval.Tag);
        }
        return missed;
    }

    private void RequireIntervals()
    {
        if (Intervals.Count == 0)
            throw new ConfigException("schedule defines no tags: at least one interval is needed");
    }
}
