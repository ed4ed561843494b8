using Backy.Storage.Schedules;
using static Backy.Tests.Schedules.History;

namespace Backy.Tests.Schedules;

/// <summary>DESIGN.md 6 and the original's test_schedule.py (clock at 2015-09-01T07:06:47Z, spread 1 s).</summary>
public class NextRunTests
{
    private static readonly DateTimeOffset Now = Utc(2015, 9, 1, 7, 6, 47);
    private static readonly TimeSpan Spread = TimeSpan.FromSeconds(1);
    private FakeClock _clock = null!;

    [SetUp]
    public void SetUp() => _clock = new FakeClock(Now);

    private static void AssertRun(NextRun run, DateTimeOffset time, params string[] tags)
    {
        Assert.That(run.Time, Is.EqualTo(time));
        Assert.That(run.Tags, Is.EquivalentTo(tags));
    }

    [Test]
    public void Daily_without_history_runs_at_the_next_boundary() =>
        AssertRun(Daily().Next(_clock, Spread, []), Utc(2015, 9, 2, 0, 0, 1), "daily");

    [Test]
    public void First_backup_catches_up_all_tags_at_the_first_ideal_time() =>
        AssertRun(Sched(("daily", "1d", 5), ("test", "7d", 7)).Next(_clock, Spread, []),
            Utc(2015, 9, 2, 0, 0, 1), "daily", "test");

    [Test]
    public void Ideal_time_one_day_later_is_the_boundary_after_that() =>
        AssertRun(Daily().NextIdeal(Now + TimeSpan.FromDays(1), TimeSpan.FromSeconds(5)), Utc(2015, 9, 3, 0, 0, 5), "daily");

    [Test]
    public void Ideal_time_25_hours_later_is_still_the_same_boundary() =>
        AssertRun(Daily().NextIdeal(Now + TimeSpan.FromHours(25), TimeSpan.FromSeconds(5)), Utc(2015, 9, 3, 0, 0, 5), "daily");

    [Test]
    public void Tags_due_at_the_same_boundary_run_together()
    {
        // With spread 0 both the daily and the 7-day boundary fall on Monday 2015-09-07 00:00.
        var run = Sched(("daily", "1d", 5), ("weekly", "7d", 4)).NextIdeal(Utc(2015, 9, 6, 12), TimeSpan.Zero);
        AssertRun(run, Utc(2015, 9, 7), "daily", "weekly");
    }

    [Test]
    public void A_revision_15_seconds_old_means_nothing_is_missed()
    {
        var history = new[] { Rev(Now - TimeSpan.FromSeconds(15), "daily") };
        Assert.That(Daily().Missed(Now, history), Is.Empty);
        AssertRun(Daily().Next(_clock, Spread, history), Utc(2015, 9, 2, 0, 0, 1), "daily");
    }

    [Test]
    public void Ad_hoc_tags_never_count_for_catch_up()
    {
        var history = new[] { Rev(Now - TimeSpan.FromSeconds(15), "test"), Rev(Now - TimeSpan.FromSeconds(10), "manual:x") };
        Assert.That(Daily().Missed(Now, history), Is.EquivalentTo(new[] { "daily" }));
    }

    [Test]
    public void An_incomplete_revision_does_not_satisfy_its_tags()
    {
        var history = new[] { Incomplete(Now - TimeSpan.FromSeconds(15), "daily") };
        Assert.That(Daily().Missed(Now, history), Is.EquivalentTo(new[] { "daily" }));
    }

    [Test]
    public void A_revision_exactly_one_interval_old_is_missed()
    {
        var history = new[] { Rev(Now - TimeSpan.FromDays(1), "daily") };
        Assert.That(Daily().Missed(Now, history), Is.EquivalentTo(new[] { "daily" }));
        Assert.That(Daily().Missed(Now + TimeSpan.FromTicks(-1), history), Is.Empty);
    }

    [Test]
    public void Daily_revision_1_6_days_old_runs_now_with_daily()
    {
        var history = new[] { Rev(Now - TimeSpan.FromDays(1.6), "daily") };
        Assert.That(Daily().Missed(Now, history), Is.EquivalentTo(new[] { "daily" }));
        AssertRun(Daily().Next(_clock, Spread, history), Now, "daily");
    }

    [Test]
    public void Catch_up_runs_now_until_5_minutes_before_the_next_boundary_then_the_boundary_wins()
    {
        var history = new[] { Rev(Now - TimeSpan.FromDays(1.6), "daily") };

        _clock.Set(Utc(2015, 9, 1, 23, 55, 0));
        AssertRun(Daily().Next(_clock, Spread, history), Utc(2015, 9, 1, 23, 55, 0), "daily");

        _clock.Set(Utc(2015, 9, 1, 23, 55, 1));
        AssertRun(Daily().Next(_clock, Spread, history), Utc(2015, 9, 2, 0, 0, 1), "daily");
    }

    [Test]
    public void Recently_missed_tags_all_run_now()
    {
        // No weekly and no hourly at all, and the only daily is 1.2 days old.
        var schedule = Sched(("daily", "1d", 5), ("hourly", "1h", 24), ("weekly", "7d", 7));
        var history = new[] { Rev(Now - TimeSpan.FromDays(1.2), "daily") };
        AssertRun(schedule.Next(_clock, Spread, history), Now, "daily", "hourly", "weekly");
    }

    [Test]
    public void Catch_up_runs_with_the_missed_tags_only()
    {
        var schedule = Sched(("hourly", "1h", 24), ("daily", "1d", 5));
        var history = new[] { Rev(Now - TimeSpan.FromMinutes(10), "hourly"), Rev(Now - TimeSpan.FromDays(2), "daily") };
        AssertRun(schedule.Next(_clock, Spread, history), Now, "daily");
    }

    [Test]
    public void Missed_tags_join_a_boundary_that_is_less_than_5_minutes_away()
    {
        var schedule = Sched(("hourly", "1h", 24), ("daily", "1d", 5));
        _clock.Set(Utc(2015, 9, 1, 7, 57, 0));
        var history = new[] { Rev(_clock.GetUtcNow() - TimeSpan.FromMinutes(10), "hourly"), Rev(Now - TimeSpan.FromDays(2), "daily") };
        AssertRun(schedule.Next(_clock, Spread, history), Utc(2015, 9, 1, 8, 0, 1), "hourly", "daily");
    }

    [Test]
    public void Only_an_incomplete_revision_counts_as_history_for_the_immediate_run()
    {
        var history = new[] { Incomplete(Now - TimeSpan.FromHours(1), "daily") };
        AssertRun(Daily().Next(_clock, Spread, history), Now, "daily");
    }

    [Test]
    public void A_schedule_without_intervals_is_a_clear_error() =>
        Assert.That(() => new Schedule([]).Next(_clock, Spread, []),
            Throws.InstanceOf<Backy.Storage.ConfigException>().With.Message.Contains("no tags"));
}
