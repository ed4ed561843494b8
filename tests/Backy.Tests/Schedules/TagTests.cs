using Backy.Storage;
using Backy.Storage.Schedules;
using static Backy.Tests.Schedules.History;

namespace Backy.Tests.Schedules;

public class TagTests
{
    private static readonly Schedule Schedule = Sched(("daily", "1d", 5), ("weekly", "1w", 4), ("monthly", "4w", 3));

    [Test]
    public void Tags_are_sorted_by_interval_shortest_first() =>
        Assert.That(Schedule.SortTags(["monthly", "daily", "weekly"]), Is.EqualTo(new[] { "daily", "weekly", "monthly" }));

    [Test]
    public void Unknown_and_manual_tags_come_after_schedule_tags_alphabetically() =>
        Assert.That(Schedule.FormatTags(["zeta", "manual:b", "weekly", "alpha", "daily"]),
            Is.EqualTo("daily,weekly,alpha,manual:b,zeta"));

    [TestCase("daily", new[] { "daily" })]
    [TestCase("daily,weekly", new[] { "daily", "weekly" })]
    [TestCase(" daily , weekly ,", new[] { "daily", "weekly" })]
    [TestCase("daily,daily", new[] { "daily" })]
    [TestCase("", new string[0])]
    public void Tag_sets_are_parsed_from_one_comma_separated_argument(string text, string[] expected) =>
        Assert.That(TagSet.Parse(text), Is.EquivalentTo(expected));

    [Test]
    public void Schedule_and_manual_tags_are_valid() =>
        Assert.That(() => TagValidation.Validate(Schedule, ["daily", "manual:before-upgrade"], force: false), Throws.Nothing);

    [Test]
    public void Unknown_tags_are_an_error_that_names_each_of_them()
    {
        var e = Assert.Throws<BackyException>(() => TagValidation.Validate(Schedule, ["daily", "hourly", "foo"], force: false));
        Assert.That(e!.Message, Does.StartWith("unknown tags 'foo', 'hourly': not in the schedule (daily, weekly, monthly)"));
        Assert.That(e.Message, Does.Contain("-f"));
    }

    [Test]
    public void Force_accepts_unknown_tags() =>
        Assert.That(() => TagValidation.Validate(Schedule, ["foo"], force: true), Throws.Nothing);

    [Test]
    public void Manual_prefix_is_case_sensitive() =>
        Assert.That(TagValidation.Unknown(Schedule, ["Manual:x", "manual:y"]), Is.EqualTo(new[] { "Manual:x" }));
}
