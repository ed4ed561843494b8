using Backy.Storage.Schedules;
using static Backy.Tests.Schedules.History;

namespace Backy.Tests.Schedules;

public class JobSpreadTests
{
    private static readonly Schedule Schedule = Sched(("daily", "1d", 5), ("weekly", "1w", 4));

    [Test]
    public void Spread_is_pinned_for_a_known_name()
    {
        // Changing the hash moves every job's backup time on upgrade: keep this value.
        Assert.That(JobSpread.For("test01", Schedule), Is.EqualTo(TimeSpan.FromSeconds(PinnedTest01)));
    }

    private const long PinnedTest01 = 3 * 86400 + 9 * 3600 + 52 * 60 + 33; // 3.09:52:33

    [Test]
    public void Spread_is_whole_seconds_within_zero_and_the_longest_interval()
    {
        var spreads = Enumerable.Range(0, 500).Select(i => JobSpread.For($"vm{i:000}", Schedule)).ToArray();
        Assert.That(spreads, Has.All.InRange(TimeSpan.Zero, TimeSpan.FromDays(7)));
        Assert.That(spreads.Select(s => s.Ticks % TimeSpan.TicksPerSecond), Has.All.Zero);
        // 500 names over a week must not collapse into a few slots.
        Assert.That(spreads.Distinct().Count(), Is.GreaterThan(490));
        Assert.That(spreads.Count(s => s > TimeSpan.FromDays(3.5)), Is.InRange(150, 350));
    }

    [Test]
    public void Spread_of_the_same_name_is_the_same_in_every_call() =>
        Assert.That(JobSpread.For("db-server", Schedule), Is.EqualTo(JobSpread.For(new string("db-server".ToCharArray()), Schedule)));

    [Test]
    public void Spread_of_a_one_second_schedule_is_zero_or_one() =>
        Assert.That(Enumerable.Range(0, 50).Select(i => JobSpread.For($"j{i}", Sched(("s", "1s", 1)))).Distinct(),
            Is.EquivalentTo(new[] { TimeSpan.Zero, TimeSpan.FromSeconds(1) }));
}
