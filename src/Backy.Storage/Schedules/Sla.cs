namespace Backy.Storage.Schedules;

/// <summary>
/// Whether a job's backups are in time: overdue when the newest complete revision is older
/// than 1.5 x the shortest interval (the original's <c>sla_overdue</c>). A job that is running
/// right now is never overdue; only the daemon knows that, so it checks it before asking here.
/// </summary>
public static class Sla
{
    /// <summary>The tolerance on the shortest interval, as the manual states ("a job that is
    /// supposed to run every 24h will be considered stale after 36h").</summary>
    public const double Tolerance = 1.5;

    public static SlaStatus Evaluate(Schedule schedule, IEnumerable<RevisionHistoryEntry> history, DateTimeOffset now)
    {
        var newest = history.Where(r => r.IsComplete).Select(r => (DateTimeOffset?)r.Timestamp).Max();
        // No complete backup yet is not an SLA breach: a new job is not stale (original: 0).
        if (newest is null || schedule.Intervals.Count == 0)
            return SlaStatus.Ok;
        var age = now - newest.Value;
        var limit = schedule.Intervals.Min(i => i.Interval) * Tolerance;
        return age > limit ? new SlaStatus(true, age) : SlaStatus.Ok;
    }

    public static SlaStatus Evaluate(Schedule schedule, IEnumerable<RevisionHistoryEntry> history, TimeProvider clock) =>
        Evaluate(schedule, history, clock.GetUtcNow());
}

/// <summary>The SLA state of a job.</summary>
/// <param name="IsOverdue">True when the newest complete revision is too old.</param>
/// <param name="Overdue">When overdue, the age of the newest complete revision (what the
/// original reports as "SLA overdue", in seconds); otherwise zero.</param>
public readonly record struct SlaStatus(bool IsOverdue, TimeSpan Overdue)
{
    public static SlaStatus Ok => new(false, TimeSpan.Zero);
}
