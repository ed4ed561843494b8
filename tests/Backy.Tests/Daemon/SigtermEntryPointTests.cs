using Backy.Tests.Daemon.Support;

namespace Backy.Tests.Daemon;

/// <summary>
/// SIGTERM while a worker is mid-backup, through both of the manual's entry points (issue 14.3): the
/// worker gets SIGTERM and BACKY_WORKER_GRACE seconds, the scheduler waits for it, exits 0, and nothing is
/// left behind (no worker, no job lock: another daemon starts and backs up at once). Before, `backy scheduler`
/// was ended by System.CommandLine 2 s after the signal (exit 143) with its worker still running.
/// </summary>
public class SigtermEntryPointTests
{
    [Test, CancelAfter(90_000)]
    public async Task SIGTERM_mid_backup_waits_for_the_worker_and_exits_0(
        [Values(EntryPoint.Daemon, EntryPoint.Scheduler)] EntryPoint entry, CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        bed.WriteConfig("2s", 1, "a");
        bed.Mark("a", "sleep", "300");
        bed.Mark("a", "term-delay", "5"); // longer than System.CommandLine's 2 s, well within the grace
        using var notify = new NotifySocket();
        var daemon = bed.StartDaemon(entry, notify, graceSeconds: 30);
        await notify.WaitForAsync("READY=1", ct);
        await DaemonTestBed.WaitUntilAsync(() => bed.Worker.Records().Any(r => r is { Kind: "start", Action: "backup" }), ct);
        var worker = bed.Worker.Records().First(r => r.Action == "backup").Pid;

        daemon.Signal(Posix.SigTerm);
        var exit = await daemon.WaitForExitAsync(ct);

        Assert.That(exit, Is.EqualTo(0), daemon.Stderr);
        Assert.That(bed.Worker.Records().Any(r => r.Kind == "term" && r.Pid == worker), Is.True, "the worker got SIGTERM");
        Assert.That(Posix.IsAlive(worker), Is.False, "the scheduler waited for its worker");
        Assert.That(bed.Log, Does.Contain("daemon stopped").And.Not.Contain("killed"));

        // Nothing held: a new scheduler takes the base-dir lock and runs the job straight away.
        File.Delete(Path.Combine(bed.JobDir("a"), "sleep"));
        using var notify2 = new NotifySocket();
        var second = bed.StartDaemon(entry, notify2);
        await notify2.WaitForAsync("READY=1", ct);
        await DaemonTestBed.WaitUntilAsync(() => bed.Worker.Records().Any(r => r is { Kind: "end", Action: "backup" }), ct);
        second.Signal(Posix.SigTerm);
        Assert.That(await second.WaitForExitAsync(ct), Is.EqualTo(0), second.Stderr);
    }
}
