using Backy.Storage;
using Backy.Storage.Jobs;

namespace Backy.Tests.Storage;

public class JobConfigTests
{
    [Test]
    public void Config_with_source_and_schedule_round_trips()
    {
        var config = JobConfig.Parse("""
            source:
              type: file
              filename: /srv/disk.img
              cow: false
            schedule:
              daily: {interval: 1d, keep: 7}
              weekly: {interval: 7d, keep: 4}
            """);
        Assert.That(config.Source.Type, Is.EqualTo("file"));
        Assert.That(config.Source.Required("filename"), Is.EqualTo("/srv/disk.img"));
        Assert.That(config.Source.Flag("cow", true), Is.False);
        Assert.That(config.Schedule!.Intervals.Select(i => i.Tag), Is.EqualTo(new[] { "daily", "weekly" }));
        var back = JobConfig.Parse(config.Serialize());
        Assert.That(back.Source.Type, Is.EqualTo("file"));
        Assert.That(back.Source.Settings, Is.EquivalentTo(config.Source.Settings));
        Assert.That(back.Schedule!.Find("weekly")!.Interval, Is.EqualTo(TimeSpan.FromDays(7)));
    }

    [Test]
    public void Config_errors_are_reported_together_with_their_key_path()
    {
        var e = Assert.Throws<ConfigException>(() => JobConfig.Parse("source:\n  filename: x\nschedule:\n  daily: {interval: 1x, keep: 0}\n"));
        Assert.That(e!.Message, Does.Contain("source.type: missing").And.Contain("schedule.daily.interval").And.Contain("schedule.daily.keep"));
    }
}
