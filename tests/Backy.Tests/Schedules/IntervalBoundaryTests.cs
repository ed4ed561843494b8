using Backy.Storage.Schedules;
using static Backy.Tests.Schedules.History;

namespace Backy.Tests.Schedules;

public class IntervalBoundaryTests
{
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);
    private static readonly TimeSpan Spread100 = TimeSpan.FromSeconds(100);

    // The original's test_next_in_interval, step by step.
    [TestCase("2015-09-01T07:06:47Z", "2015-09-02T00:01:40Z", TestName = "Daily_spread_100_runs_at_00_01_40")]
    [TestCase("2015-09-01T07:36:47Z", "2015-09-02T00:01:40Z", TestName = "Thirty_minutes_later_is_the_same_interval")]
    [TestCase("2015-09-01T08:06:47Z", "2015-09-02T00:01:40Z", TestName = "Sixty_minutes_later_is_the_same_interval")]
    [TestCase("2015-09-02T00:01:20Z", "2015-09-02T00:01:40Z", TestName = "Seconds_before_the_boundary_is_the_same_interval")]
    [TestCase("2015-09-02T00:01:40Z", "2015-09-03T00:01:40Z", TestName = "Exactly_on_the_boundary_is_the_next_interval")]
    [TestCase("2015-09-02T00:01:41Z", "2015-09-03T00:01:40Z", TestName = "One_second_after_the_boundary_is_the_next_interval")]
    public void Next_boundary_after_now(string now, string expected) =>
        Assert.That(IntervalBoundary.NextAfter(DateTimeOffset.Parse(now), Day, Spread100), Is.EqualTo(DateTimeOffset.Parse(expected)));

    [Test]
    public void Spread_larger_than_the_interval_is_taken_modulo_the_interval() =>
        Assert.That(IntervalBoundary.NextAfter(Utc(2015, 9, 1, 7, 6, 47), Day, Day * 3 + Spread100),
            Is.EqualTo(Utc(2015, 9, 2, 0, 1, 40)));

    [Test]
    public void Boundaries_are_counted_from_year_one_not_from_the_unix_epoch()
    {
        // 0001-01-01 is a Monday, so weekly boundaries fall on Mondays (1970-01-01 was a Thursday).
        var next = IntervalBoundary.NextAfter(Utc(2015, 9, 1, 7, 6, 47), TimeSpan.FromDays(7), TimeSpan.Zero);
        Assert.That(next, Is.EqualTo(Utc(2015, 9, 7)));
        Assert.That(next.DayOfWeek, Is.EqualTo(DayOfWeek.Monday));
    }

    [Test]
    public void Result_is_utc_whatever_the_offset_of_now()
    {
        var now = new DateTimeOffset(2015, 9, 1, 9, 6, 47, TimeSpan.FromHours(2));
        var next = IntervalBoundary.NextAfter(now, Day, Spread100);
        Assert.That((next, next.Offset), Is.EqualTo((Utc(2015, 9, 2, 0, 1, 40), TimeSpan.Zero)));
    }
}
