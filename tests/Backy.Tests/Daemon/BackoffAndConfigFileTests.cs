using Backy.Daemon.Config;
using Backy.Daemon.Scheduling;
using Backy.Daemon.Workers;

namespace Backy.Tests.Daemon;

public class BackoffAndConfigFileTests
{
    [Test]
    public void Backoff_doubles_from_2_minutes_up_to_6_hours()
    {
        var minutes = Enumerable.Range(0, 12).Select(n => Backoff.After(n).TotalMinutes);

        Assert.That(minutes, Is.EqualTo(new double[] { 0, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360, 360 }));
        Assert.That(Backoff.After(int.MaxValue), Is.EqualTo(TimeSpan.FromHours(6)));
    }

    [Test]
    public void Speed_is_fast_below_10_minutes_and_slow_without_history()
    {
        Assert.That(SpeedClass.Of(TimeSpan.FromMinutes(9.9)), Is.EqualTo(Speed.Fast));
        Assert.That(SpeedClass.Of(TimeSpan.FromMinutes(10)), Is.EqualTo(Speed.Slow));
        Assert.That(SpeedClass.Of(null), Is.EqualTo(Speed.Slow));
        Assert.That(JobStatus.WaitingForSlot(Speed.Fast), Is.EqualTo("waiting for worker slot (fast)"));
        Assert.That(JobStatus.Running(Speed.Slow), Is.EqualTo("running (slow)"));
    }

    [Test]
    public void Job_config_is_written_only_when_it_changed()
    {
        var dir = Directory.CreateTempSubdirectory("backy-jobconfig-").FullName;
        try
        {
            var config = DaemonConfigReader.Parse("""
                global: {base-dir: /srv}
                schedules: {s: {daily: {interval: 1d, keep: 7}}}
                jobs: {j: {schedule: s, source: {type: file, filename: /img}}}
                """, "c");
            var job = config.Jobs["j"];

            Assert.That(JobConfigFile.WriteIfChanged(dir, job), Is.True);
            var path = Path.Combine(dir, "config");
            File.SetLastWriteTimeUtc(path, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
            Assert.That(JobConfigFile.WriteIfChanged(dir, job), Is.False);
            Assert.That(File.GetLastWriteTimeUtc(path).Year, Is.EqualTo(2020), "unchanged file not rewritten");

            var changed = job with { Source = new SourceDefinition("file", new Dictionary<string, string> { ["filename"] = "/other" }) };
            Assert.That(JobConfigFile.WriteIfChanged(dir, changed), Is.True);
            Assert.That(File.ReadAllText(path), Does.Contain("/other").And.Contain("daily:").And.Contain("interval: 1d"));
            Assert.That(Directory.GetFiles(dir), Has.Length.EqualTo(1), "no temp file left behind");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
