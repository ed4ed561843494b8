using Backy.Storage.Schedules;
using static Backy.Tests.Schedules.History;

namespace Backy.Tests.Schedules;

public class RetentionPolicyTests
{
    private static readonly DateTimeOffset Now = Utc(2014, 5, 10, 10, 0);

    /// <summary>Applies a result to a history the way the expire command does.</summary>
    private static List<RevisionHistoryEntry> Apply(IEnumerable<RevisionHistoryEntry> history, RetentionResult result)
    {
        var changed = result.Changes.ToDictionary(c => c.Id, c => c.RemainingTags);
        return history.Where(r => !result.Deleted.Contains(r.Id))
            .Select(r => changed.TryGetValue(r.Id, out var tags) ? r with { Tags = tags } : r)
            .OrderBy(r => r.Timestamp).ToList();
    }

    [Test]
    public void Keeps_revisions_inside_keep_times_interval_even_beyond_keep_and_removes_older_ones()
    {
        // The original's test_do_not_expire_if_less_than_keep_and_inside_keep_interval.
        var clock = new FakeClock(Now);
        var schedule = Daily(keep: 5);
        var history = new List<RevisionHistoryEntry> { Rev(Utc(2014, 5, 10, 10, 0), "daily") };
        var result = RetentionPolicy.Evaluate(schedule, history, clock);
        Assert.That((result.Changes.Count, result.Deleted.Count), Is.EqualTo((0, 0)));

        foreach (var day in new[] { 9, 8, 7, 6 })
            history.Add(Rev(Utc(2014, 5, day, 10, 0), "daily"));
        result = RetentionPolicy.Evaluate(schedule, history, clock);
        Assert.That((result.Changes.Count, result.Deleted.Count), Is.EqualTo((0, 0)));

        // One more than keep, but still inside keep x interval (5 days): kept.
        history.Add(Rev(Utc(2014, 5, 6, 11, 0), "daily"));
        result = RetentionPolicy.Evaluate(schedule, history, clock);
        Assert.That(result.Changes, Is.Empty);
        Assert.That(result.Deleted, Is.Empty);

        // Beyond keep and outside the window: loses its tag and is deleted.
        var old = Rev(Utc(2014, 5, 4, 11, 0), "daily");
        history.Add(old);
        result = RetentionPolicy.Evaluate(schedule, history, clock);
        Assert.That(result.Deleted, Is.EqualTo(new[] { old.Id }));
        Assert.That(result.Changes.Single().Id, Is.EqualTo(old.Id));
        Assert.That(result.Changes.Single().RemovedTags, Is.EquivalentTo(new[] { "daily" }));
        var after = Apply(history, result);
        Assert.That(after, Has.Count.EqualTo(6));
        Assert.That(after.Select(r => r.Tags), Has.All.EquivalentTo(new[] { "daily" }));
    }

    [Test]
    public void Fewer_revisions_than_keep_are_never_expired_however_old()
    {
        var history = new[] { Rev(Now - TimeSpan.FromDays(400), "daily"), Rev(Now - TimeSpan.FromDays(300), "daily") };
        var result = RetentionPolicy.Evaluate(Daily(keep: 5), history, Now);
        Assert.That((result.Changes.Count, result.Deleted.Count), Is.EqualTo((0, 0)));
    }

    [Test]
    public void The_newest_keep_revisions_stay_however_old()
    {
        var history = Enumerable.Range(1, 4).Select(i => Rev(Now - TimeSpan.FromDays(100 * i), "daily")).ToArray();
        var result = RetentionPolicy.Evaluate(Daily(keep: 2), history, Now);
        Assert.That(result.Deleted, Is.EquivalentTo(new[] { history[2].Id, history[3].Id }));
    }

    [Test]
    public void Threshold_is_exclusive_a_revision_exactly_keep_intervals_old_stays()
    {
        var atThreshold = Rev(Now - TimeSpan.FromDays(2), "daily");
        var history = new[] { atThreshold, Rev(Now - TimeSpan.FromDays(1), "daily"), Rev(Now, "daily") };
        Assert.That(RetentionPolicy.Evaluate(Daily(keep: 2), history, Now).Deleted, Is.Empty);
        Assert.That(RetentionPolicy.Evaluate(Daily(keep: 2), history, Now + TimeSpan.FromTicks(1)).Deleted,
            Is.EqualTo(new[] { atThreshold.Id }));
    }

    [Test]
    public void A_revision_tagged_daily_manual_and_unknown_keeps_only_its_manual_tag()
    {
        var old = Rev(Now - TimeSpan.FromDays(10), "daily", "manual:x", "unknown");
        var newer = Rev(Now, "daily");
        var result = RetentionPolicy.Evaluate(Daily(keep: 1), new[] { old, newer }, Now);
        var change = result.Changes.Single();
        Assert.That(change.Id, Is.EqualTo(old.Id));
        Assert.That(change.RemainingTags, Is.EquivalentTo(new[] { "manual:x" }));
        Assert.That(change.RemovedTags, Is.EquivalentTo(new[] { "daily", "unknown" }));
        Assert.That(result.Deleted, Is.Empty);
    }

    [Test]
    public void A_revision_keeps_its_other_schedule_tag_when_one_expires()
    {
        var schedule = Sched(("daily", "1d", 1), ("weekly", "7d", 4));
        var old = Rev(Now - TimeSpan.FromDays(3), "daily", "weekly");
        var result = RetentionPolicy.Evaluate(schedule, new[] { old, Rev(Now, "daily") }, Now);
        Assert.That(result.Changes.Single().RemainingTags, Is.EquivalentTo(new[] { "weekly" }));
        Assert.That(result.Deleted, Is.Empty);
    }

    [Test]
    public void Tags_of_a_former_schedule_are_removed_even_from_new_revisions()
    {
        var r = Rev(Now, "hourly");
        var result = RetentionPolicy.Evaluate(Daily(), new[] { r }, Now);
        Assert.That(result.Deleted, Is.EqualTo(new[] { r.Id }));
    }

    [Test]
    public void A_revision_that_already_had_no_tags_is_deleted_without_a_change()
    {
        var r = Rev(Now);
        var result = RetentionPolicy.Evaluate(Daily(), new[] { r }, Now);
        Assert.That((result.Changes.Count, result.Deleted.Single()), Is.EqualTo((0, r.Id)));
    }

    [Test]
    public void Manual_tags_never_expire()
    {
        var r = Rev(Now - TimeSpan.FromDays(3650), "manual:keep-forever");
        var result = RetentionPolicy.Evaluate(Daily(keep: 1), new[] { r, Rev(Now, "daily") }, Now);
        Assert.That((result.Changes.Count, result.Deleted.Count), Is.EqualTo((0, 0)));
    }

    [Test]
    public void Revisions_are_considered_oldest_first_whatever_the_input_order()
    {
        var oldest = Rev(Now - TimeSpan.FromDays(30), "daily");
        var history = new[] { Rev(Now, "daily"), oldest, Rev(Now - TimeSpan.FromDays(20), "daily") };
        Assert.That(RetentionPolicy.Evaluate(Daily(keep: 2), history, Now).Deleted, Is.EqualTo(new[] { oldest.Id }));
    }
}
