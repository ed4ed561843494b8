namespace Backy.Storage.Schedules;

/// <summary>
/// What <c>expire</c> does, computed without touching disk (the original's
/// <c>Schedule.expire</c>, phases 1-3): the caller writes the new tags and deletes the revisions.
/// </summary>
public static class RetentionPolicy
{
    /// <param name="schedule">The job's schedule.</param>
    /// <param name="history">Every revision of the job, local and peer, complete or not.</param>
    /// <param name="now">The current time.</param>
    public static RetentionResult Evaluate(Schedule schedule, IEnumerable<RevisionHistoryEntry> history, DateTimeOffset now)
    {
        // Oldest first; OrderBy is stable, so equal timestamps keep the caller's order.
        var revisions = history.OrderBy(r => r.Timestamp).ToArray();
        var tags = revisions.ToDictionary(r => r.Id, r => new HashSet<string>(r.Tags, StringComparer.Ordinal));

        // Phase 1: keep the newest `keep` revisions of each tag, and any revision younger than
        // keep x interval even beyond that count (a burst of manual runs must not push out the
        // regular ones early).
        foreach (var interval in schedule.Intervals)
        {
            var carrying = revisions.Where(r => tags[r.Id].Contains(interval.Tag)).ToArray();
            if (carrying.Length < interval.Keep)
                continue;
            var threshold = now - interval.Interval * interval.Keep;
            foreach (var old in carrying[..^interval.Keep])
                if (old.Timestamp < threshold)
                    tags[old.Id].Remove(interval.Tag);
        }

        // Phase 2: tags of a former schedule go; manual: tags are the operator's and stay.
        foreach (var set in tags.Values)
            set.RemoveWhere(t => !schedule.HasTag(t) && !TagValidation.IsManual(t));

        // Phase 3: a revision without tags is deleted (also one that had none to begin with).
        var changes = new List<RetentionChange>();
        var deleted = new List<string>();
        foreach (var r in revisions)
        {
            var remaining = tags[r.Id];
            var removed = r.Tags.Where(t => !remaining.Contains(t)).ToHashSet(StringComparer.Ordinal);
            if (removed.Count > 0)
                changes.Add(new RetentionChange(r.Id, removed, remaining));
            if (remaining.Count == 0)
                deleted.Add(r.Id);
        }
        return new RetentionResult(changes, deleted);
    }

    /// <inheritdoc cref="Evaluate(Schedule, IEnumerable{RevisionHistoryEntry}, DateTimeOffset)"/>
    public static RetentionResult Evaluate(Schedule schedule, IEnumerable<RevisionHistoryEntry> history, TimeProvider clock) =>
        Evaluate(schedule, history, clock.GetUtcNow());
}

/// <summary>A revision that loses tags.</summary>
/// <param name="Id">The revision id.</param>
/// <param name="RemovedTags">The tags it loses.</param>
/// <param name="RemainingTags">Its tags afterwards (empty when it is to be deleted).</param>
public sealed record RetentionChange(string Id, IReadOnlySet<string> RemovedTags, IReadOnlySet<string> RemainingTags);

/// <summary>The outcome of <see cref="RetentionPolicy.Evaluate(Schedule, IEnumerable{RevisionHistoryEntry}, DateTimeOffset)"/>, oldest revision first.</summary>
/// <param name="Changes">Revisions whose tags change.</param>
/// <param name="Deleted">Revisions left without tags: the caller deletes them.</param>
public sealed record RetentionResult(IReadOnlyList<RetentionChange> Changes, IReadOnlyList<string> Deleted);
