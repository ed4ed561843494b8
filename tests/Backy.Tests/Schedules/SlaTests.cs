using Backy.Storage.Schedules;
using static Backy.Tests.Schedules.History;

namespace Backy.Tests.Schedules;

public class SlaTests
{
    private static readonly DateTimeOffset Now = Utc(2015, 11, 6, 12);
    private static readonly Schedule Schedule = Sched(("daily", "1d", 5), ("hourly", "1h", 24));

    [Test]
    public void A_job_without_backups_is_not_overdue() =>
        Assert.That(Sla.Evaluate(Schedule, [], Now), Is.EqualTo(new SlaStatus(false, TimeSpan.Zero)));

    [Test]
    public void Exactly_one_and_a_half_shortest_intervals_is_still_in_time() =>
        Assert.That(Sla.Evaluate(Schedule, [Rev(Now - TimeSpan.FromMinutes(90), "hourly")], Now).IsOverdue, Is.False);

    [Test]
    public void Beyond_one_and_a_half_shortest_intervals_is_overdue_by_the_age_of_the_newest_revision() =>
        Assert.That(Sla.Evaluate(Schedule, [Rev(Now - TimeSpan.FromMinutes(91), "daily")], new FakeClock(Now)),
            Is.EqualTo(new SlaStatus(true, TimeSpan.FromMinutes(91))));

    [Test]
    public void The_newest_complete_revision_counts_and_incomplete_ones_do_not()
    {
        var history = new[] { Rev(Now - TimeSpan.FromHours(3), "daily"), Rev(Now - TimeSpan.FromMinutes(30), "hourly"), Incomplete(Now, "hourly") };
        Assert.That(Sla.Evaluate(Schedule, history, Now).IsOverdue, Is.False);
        Assert.That(Sla.Evaluate(Schedule, history, Now + TimeSpan.FromMinutes(61)),
            Is.EqualTo(new SlaStatus(true, TimeSpan.FromMinutes(91))));
    }

    [Test]
    public void A_daily_job_is_stale_after_36_hours_as_the_manual_says()
    {
        var history = new[] { Rev(Now, "daily") };
        Assert.That(Sla.Evaluate(Daily(), history, Now + TimeSpan.FromHours(36)).IsOverdue, Is.False);
        Assert.That(Sla.Evaluate(Daily(), history, Now + TimeSpan.FromHours(36) + TimeSpan.FromSeconds(1)).IsOverdue, Is.True);
    }
}
