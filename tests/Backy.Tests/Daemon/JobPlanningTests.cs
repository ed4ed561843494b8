using Backy.Daemon.Config;
using Backy.Daemon.Hosting;
using Backy.Storage.Logging;
using Backy.Daemon.Scheduling;
using Backy.Daemon.Workers;
using Backy.Storage.Schedules;
using Backy.Tests.Daemon.Support;
using Backy.Tests.Schedules;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Backy.Tests.Daemon;

/// <summary>A job loop's planning on a fake clock: exact times, no processes, no waiting.</summary>
public class JobPlanningTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2015-09-01T07:06:47Z");

    private static JobLoop Loop(DaemonTestBed bed, FakeClock clock)
    {
        var config = DaemonConfigReader.Load(bed.ConfigPath);
        using var log = FileLoggerProvider.Open(bed.LogPath);
        var services = DaemonHost.Build(new DaemonOptions(bed.ConfigPath, bed.LogPath), config, log,
            new WorkerLauncherOptions(bed.Worker.Path, TimeSpan.FromSeconds(1))).Services;
        var loopServices = new JobLoopServices(services.GetRequiredService<Deadlines>(), services.GetRequiredService<JobRun>(), clock, NullLogger.Instance, new Backy.Daemon.Views.JobViewCache(clock));
        var environment = new JobEnvironment(config.Global, new WorkerSlots(1), config.Peers);
        return new JobLoop(config.Jobs["a"], bed.JobDir("a"), () => environment, loopServices);
    }

    private static void Revision(DaemonTestBed bed, string id, DateTimeOffset when, string tags) =>
        bed.Mark("a", id + ".rev", $"uuid: {id}\ntimestamp: {when:yyyy-MM-ddTHH:mm:ssZ}\ntags: [{tags}]\nstats: {{duration: 30.0}}\n");

    [Test]
    public async Task A_new_job_waits_for_its_first_boundary_with_every_tag()
    {
        await using var bed = new DaemonTestBed();
        bed.WriteConfig("1h", 1, "a:daily");
        var loop = Loop(bed, new FakeClock(Now));

        loop.Prepare();
        var job = loop.Snapshot(Now);

        var schedule = DaemonConfigReader.Load(bed.ConfigPath).Jobs["a"].Schedule;
        Assert.That(job.NextTime, Is.EqualTo(IntervalBoundary.NextAfter(Now, TimeSpan.FromDays(1), JobSpread.For("a", schedule))));
        Assert.That(job.NextTags, Is.EqualTo(new[] { "daily" }));
        Assert.That(job.Status, Is.EqualTo(JobStatus.WaitingForDeadline));
        Assert.That(job.SlaOk, Is.True, "a job without backups is not overdue");
    }

    [Test]
    public async Task A_revision_1_6_days_old_makes_the_daily_tag_run_now_and_the_job_overdue()
    {
        await using var bed = new DaemonTestBed();
        bed.WriteConfig("1h", 1, "a:daily");
        // An hour before the job's regular daily run: far enough that catching up now pays (> 5 min).
        var schedule = DaemonConfigReader.Load(bed.ConfigPath).Jobs["a"].Schedule;
        var now = IntervalBoundary.NextAfter(Now, TimeSpan.FromDays(1), JobSpread.For("a", schedule)) - TimeSpan.FromHours(1);
        Revision(bed, "old", now - TimeSpan.FromDays(1.6), "daily");
        var loop = Loop(bed, new FakeClock(now));

        loop.Prepare();
        var job = loop.Snapshot(now);

        Assert.That(job.NextTime, Is.EqualTo(now));
        Assert.That(job.NextTags, Is.EqualTo(new[] { "daily" }));
        Assert.That(job.SlaOk, Is.False);
        Assert.That(job.SlaOverdue, Is.EqualTo(TimeSpan.FromDays(1.6)));
        Assert.That(job.LastTime, Is.EqualTo(now - TimeSpan.FromDays(1.6)));
        Assert.That(job.LastDuration, Is.EqualTo(TimeSpan.FromSeconds(30)));
    }
}
