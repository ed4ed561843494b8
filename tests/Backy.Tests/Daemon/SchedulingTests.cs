using Backy.Daemon.Scheduling;
using Backy.Tests.Daemon.Support;

namespace Backy.Tests.Daemon;

/// <summary>Job loops against real worker processes (the stand-in) with second-long intervals.</summary>
public class SchedulingTests
{
    [Test, Category("Slow"), CancelAfter(90_000)]
    public async Task Two_jobs_with_worker_limit_1_run_on_schedule_and_never_overlap(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        bed.WriteConfig("2s", 1, "a", "b");
        bed.Mark("a", "sleep", "1");
        bed.Mark("b", "sleep", "1");
        // Both fast (a short last backup); WorkerLimitTests mixes the speed classes.
        bed.Mark("a", "seed.rev", "uuid: seed\ntimestamp: 2020-01-01T00:00:00Z\ntags: [often]\nstats: {duration: 1.0}\n");
        bed.Mark("b", "seed.rev", "uuid: seed\ntimestamp: 2020-01-01T00:00:00Z\ntags: [often]\nstats: {duration: 1.0}\n");
        var daemon = bed.StartDaemon();

        await DaemonTestBed.WaitUntilAsync(() =>
            bed.Worker.Records().Count(r => r is { Kind: "end", Action: "purge", Job: "a" }) >= 3 &&
            bed.Worker.Records().Count(r => r is { Kind: "end", Action: "purge", Job: "b" }) >= 3, ct);
        daemon.Signal(Posix.SigTerm);
        Assert.That(await daemon.WaitForExitAsync(ct), Is.EqualTo(0), daemon.Stderr);

        // Every worker process as [start, end]; any two of different jobs must be disjoint.
        var records = bed.Worker.Records();
        var spans = records.Where(r => r.Kind == "start")
            .Select(s => (s.Job, s.Pid, Start: s.Time, End: records.FirstOrDefault(e => e.Kind is "end" or "term" && e.Pid == s.Pid)?.Time ?? double.MaxValue))
            .ToArray();
        var overlaps = from x in spans from y in spans
                       where x.Job != y.Job && x.Start < y.End && y.Start < x.End
                       select $"{x.Job}:{x.Pid} overlaps {y.Job}:{y.Pid}";
        Assert.That(overlaps, Is.Empty);
        Assert.That(Directory.GetFiles(bed.JobDir("a"), "*.rev"), Has.Length.GreaterThanOrEqualTo(4));
        Assert.That(Directory.GetFiles(bed.JobDir("b"), "*.rev"), Has.Length.GreaterThanOrEqualTo(4));
        Assert.That(records.Where(r => r.Action == "backup").Select(r => r.Tags).Distinct(), Is.EqualTo(new[] { "often" }));
    }

    [Test, Category("Slow"), CancelAfter(60_000)]
    public async Task A_failing_source_fails_backs_off_longer_each_time_and_recovers(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        bed.WriteConfig("2s", 1, "a");
        bed.Mark("a", "fail");
        await using var daemon = await InProcessDaemon.StartAsync(bed, ct);

        await DaemonTestBed.WaitUntilAsync(() => daemon.Job("a").FailureCount == 1, ct);
        var first = daemon.Job("a");
        Assert.That(first.Status, Is.EqualTo(JobStatus.Failed));
        Assert.That(first.LastError, Does.Contain("source not ready"));
        var firstDelay = first.NextTime!.Value - DateTimeOffset.UtcNow;
        Assert.That(firstDelay, Is.GreaterThan(TimeSpan.FromMinutes(1)).And.LessThanOrEqualTo(TimeSpan.FromMinutes(2)));

        daemon.Scheduler.RunNow("a");
        await DaemonTestBed.WaitUntilAsync(() => daemon.Job("a").FailureCount == 2, ct);
        var secondDelay = daemon.Job("a").NextTime!.Value - DateTimeOffset.UtcNow;
        Assert.That(secondDelay, Is.GreaterThan(TimeSpan.FromMinutes(3)).And.LessThanOrEqualTo(TimeSpan.FromMinutes(4)));

        File.Delete(Path.Combine(bed.JobDir("a"), "fail"));
        daemon.Scheduler.RunNow("a");
        await DaemonTestBed.WaitUntilAsync(() => daemon.Job("a") is { FailureCount: 0, LastTime: not null }, ct);
        var recovered = daemon.Job("a");
        Assert.That(recovered.LastTags, Is.EqualTo(new[] { "often" }));
        Assert.That(recovered.LastError, Is.Null);
        Assert.That(recovered.Status, Is.AnyOf(JobStatus.Finished, JobStatus.WaitingForDeadline, JobStatus.WaitingForSlot(Backy.Daemon.Workers.Speed.Fast), JobStatus.Running(Backy.Daemon.Workers.Speed.Fast)));
    }

    [Test, CancelAfter(30_000)]
    public async Task After_downtime_missed_tags_run_at_once(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        bed.WriteConfig("1h", 1, "a:daily");
        Directory.CreateDirectory(bed.JobDir("a"));
        var old = DateTimeOffset.UtcNow.AddDays(-2).ToString("yyyy-MM-ddTHH:mm:ssZ");
        File.WriteAllText(Path.Combine(bed.JobDir("a"), "old.rev"), $"uuid: old\ntimestamp: {old}\ntags: [daily]\nstats: {{duration: 5.0}}\n");
        await using var daemon = await InProcessDaemon.StartAsync(bed, ct);

        await DaemonTestBed.WaitUntilAsync(() => bed.Worker.Records().Any(r => r is { Kind: "end", Action: "backup" }), ct);

        Assert.That(bed.Worker.Records().First(r => r.Action == "backup").Tags, Is.EqualTo("daily"));
    }

    [Test, CancelAfter(30_000)]
    public async Task The_callback_gets_the_job_name_and_the_status_yaml_on_stdin(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        var callback = Path.Combine(bed.Root, "callback");
        var output = Path.Combine(bed.Root, "callback-output");
        File.WriteAllText(callback, $"#!/bin/sh\necho \"job=$1\" > {output}.tmp\ncat >> {output}.tmp\nmv {output}.tmp {output}\necho callback says hello\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(callback, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        bed.WriteConfigWithCallback("2s", 1, callback, "a");
        await using var daemon = await InProcessDaemon.StartAsync(bed, ct);

        await DaemonTestBed.WaitUntilAsync(() => File.Exists(output), ct);

        var text = File.ReadAllText(output);
        Assert.That(text, Does.StartWith("job=a\n"));
        Assert.That(text, Does.Contain("tags: [often]"));
        await DaemonTestBed.WaitUntilAsync(() => bed.Log.Contains("callback: callback says hello"), ct);
    }

    [Test, Category("Slow"), CancelAfter(90_000)]
    public async Task SIGHUP_adds_and_removes_jobs_and_a_broken_configuration_is_rejected(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        bed.WriteConfig("2s", 2, "a", "b");
        var daemon = bed.StartDaemon();
        int Backups(string job) => bed.Worker.Records().Count(r => r is { Kind: "end", Action: "backup" } && r.Job == job);
        await DaemonTestBed.WaitUntilAsync(() => Backups("a") >= 1 && Backups("b") >= 1, ct);

        bed.WriteConfig("2s", 2, "a", "c");
        daemon.Signal(Posix.SigHup);
        await DaemonTestBed.WaitUntilAsync(() => bed.Log.Contains("reloaded"), ct);
        var bAfterReload = bed.Worker.Records().Count(r => r is { Kind: "start", Action: "backup", Job: "b" });
        var aAfterReload = Backups("a");
        await DaemonTestBed.WaitUntilAsync(() => Backups("c") >= 2 && Backups("a") >= aAfterReload + 2, ct);
        Assert.That(bed.Worker.Records().Count(r => r is { Kind: "start", Action: "backup", Job: "b" }), Is.EqualTo(bAfterReload), "b is removed");
        Assert.That(bed.Log, Does.Contain("1 added, 0 changed, 1 removed, 1 unchanged"));

        File.WriteAllText(bed.ConfigPath, File.ReadAllText(bed.ConfigPath).Replace("schedule: fast", "schedule: nonesuch"));
        daemon.Signal(Posix.SigHup);
        await DaemonTestBed.WaitUntilAsync(() => bed.Log.Contains("rejected"), ct);
        var aAfterBroken = Backups("a");
        await DaemonTestBed.WaitUntilAsync(() => Backups("a") > aAfterBroken && Backups("c") > 2, ct);
        Assert.That(bed.Log, Does.Contain("unknown schedule 'nonesuch'"));

        daemon.Signal(Posix.SigTerm);
        Assert.That(await daemon.WaitForExitAsync(ct), Is.EqualTo(0), daemon.Stderr);
    }
}
