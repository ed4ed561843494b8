using Backy.Tests.Daemon.Support;

namespace Backy.Tests.Daemon;

/// <summary>The real backy-daemon executable with a stand-in worker: start-up, notify protocol,
/// configuration errors, the base-dir lock and SIGTERM.</summary>
public class DaemonProcessTests
{
    [Test, CancelAfter(30_000)]
    public async Task Notify_socket_gets_READY_after_start_and_STOPPING_on_SIGTERM(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        bed.WriteConfig("1h", 1, "a");
        using var notify = new NotifySocket();

        var daemon = bed.StartDaemon(notify);
        await notify.WaitForAsync("READY=1", ct);
        Assert.That(notify.Messages, Does.Not.Contain("STOPPING=1"));
        daemon.Signal(Posix.SigTerm);
        var exit = await daemon.WaitForExitAsync(ct);

        Assert.That(exit, Is.EqualTo(0), daemon.Stderr);
        Assert.That(notify.Messages, Does.Contain("STOPPING=1"));
        Assert.That(notify.Messages.ToList().IndexOf("READY=1"), Is.LessThan(notify.Messages.ToList().IndexOf("STOPPING=1")));
        Assert.That(File.ReadAllText(Path.Combine(bed.JobDir("a"), "config")), Does.Contain($"filename: '{bed.Root}/a.img'"));
    }

    [Test, CancelAfter(30_000)]
    public async Task Three_configuration_mistakes_are_all_reported_exit_1_and_READY_is_never_sent(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        File.WriteAllText(bed.ConfigPath, $"""
            global:
              base-dir: {bed.BaseDir}
              worker-limit: none
            schedules:
              fast: {"{"}often: {"{"}interval: 5s, keep: 3{"}"}{"}"}
            jobs:
              a: {"{"}schedule: slow, source: {"{"}type: file, filename: /x{"}"}{"}"}
              b: {"{"}schedule: fast, source: {"{"}type: tape, filename: /x{"}"}{"}"}
            """);
        using var notify = new NotifySocket();

        var daemon = bed.StartDaemon(notify);
        var exit = await daemon.WaitForExitAsync(ct);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(daemon.Stderr, Does.Contain("global.worker-limit").And.Contain("jobs.a.schedule").And.Contain("jobs.b.source.type"));
        Assert.That(bed.Log, Does.Contain("jobs.a.schedule: unknown schedule 'slow'"));
        Assert.That(notify.Messages, Does.Not.Contain("READY=1"));
        Assert.That(Directory.Exists(bed.JobDir("a")), Is.False, "nothing may start on a broken configuration");
    }

    [Test, CancelAfter(30_000)]
    public async Task A_second_daemon_on_the_same_base_dir_exits_1_naming_the_lock(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        bed.WriteConfig("1h", 1, "a");
        using var notify = new NotifySocket();
        var first = bed.StartDaemon(notify);
        await notify.WaitForAsync("READY=1", ct);

        var second = bed.StartDaemon();
        var exit = await second.WaitForExitAsync(ct);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(second.Stderr, Does.Contain("another backy daemon is already running").And.Contain(bed.BaseDir + ".lock"));
        Assert.That(first.HasExited, Is.False);
    }

    [Test, CancelAfter(60_000)]
    public async Task SIGTERM_during_a_backup_stops_the_worker_and_exits_0(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        bed.WriteConfig("2s", 1, "a");
        bed.Mark("a", "sleep", "300");
        using var notify = new NotifySocket();
        var daemon = bed.StartDaemon(notify);
        await DaemonTestBed.WaitUntilAsync(() => bed.Worker.Records().Any(r => r is { Kind: "start", Action: "backup" }), ct);
        var worker = bed.Worker.Records().First(r => r.Action == "backup").Pid;

        daemon.Signal(Posix.SigTerm);
        var exit = await daemon.WaitForExitAsync(ct);

        Assert.That(exit, Is.EqualTo(0), daemon.Stderr);
        Assert.That(bed.Worker.Records().Any(r => r.Kind == "term" && r.Pid == worker), Is.True, "the worker got SIGTERM");
        Assert.That(Posix.IsAlive(worker), Is.False);
        Assert.That(bed.Log, Does.Not.Contain("failed (failure"), "a stop is not a failure");
    }

    [Test, CancelAfter(60_000)]
    public async Task A_worker_that_ignores_SIGTERM_is_killed_after_the_grace_period(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        bed.WriteConfig("2s", 1, "a");
        bed.Mark("a", "sleep", "300");
        bed.Mark("a", "ignore-term");
        using var notify = new NotifySocket();
        var daemon = bed.StartDaemon(notify, graceSeconds: 1);
        await DaemonTestBed.WaitUntilAsync(() => bed.Worker.Records().Any(r => r is { Kind: "start", Action: "backup" }), ct);
        var worker = bed.Worker.Records().First(r => r.Action == "backup").Pid;

        daemon.Signal(Posix.SigTerm);
        var exit = await daemon.WaitForExitAsync(ct);

        Assert.That(exit, Is.EqualTo(0), daemon.Stderr);
        Assert.That(Posix.IsAlive(worker), Is.False, "killed after the grace period");
        Assert.That(bed.Log, Does.Contain("ignored SIGTERM; killed"));
    }
}
