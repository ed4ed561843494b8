using Backy.Tests.Daemon.Support;
using Backy.Tests.Reliability;

namespace Backy.Tests.Daemon;

/// <summary>
/// The daemon's log file on a real, full file system (RELIABILITY.md, "full log file system"): a log
/// that cannot be written must never stop backups, the daemon starts and stops cleanly on it, and
/// logging resumes by itself once space is freed.
/// </summary>
public class FullLogDiskTests
{
    private static int Backups(DaemonTestBed bed) => bed.Worker.Records().Count(r => r is { Kind: "end", Action: "backup" });

    [TestCase(SmallFileSystemKind.Tmpfs), TestCase(SmallFileSystemKind.Ext4)]
    [CancelAfter(120_000)]
    public async Task Backups_go_on_while_the_log_file_system_is_full_and_logging_resumes_when_space_is_freed(SmallFileSystemKind kind, CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        // ext4 needs some room for its own metadata: 8 MiB, then filled.
        using var logFs = SmallFileSystem.MountOrIgnore(kind == SmallFileSystemKind.Ext4 ? 8 << 20 : 256 << 10, kind, Path.Combine(bed.Root, "logfs"));
        bed.LogPath = Path.Combine(logFs.Path, "backy.log");
        bed.WriteConfig("1s", 1, "a", "b");
        using var notify = new NotifySocket();
        var daemon = bed.StartDaemon(notify);
        await notify.WaitForAsync("READY=1", ct);
        await DaemonTestBed.WaitUntilAsync(() => bed.Log.Contains("a: finished") && bed.Log.Contains("b: finished"), ct);

        logFs.Fill();
        var before = Backups(bed);
        // Both jobs keep backing up while every log line fails (before: the first failing line ended both loops).
        await DaemonTestBed.WaitUntilAsync(() => Backups(bed) >= before + 6, ct);
        var records = bed.Worker.Records().Where(r => r is { Kind: "end", Action: "backup" }).Skip(before).ToArray();
        Assert.That(records.Select(r => r.Job).Distinct(), Is.EquivalentTo(new[] { "a", "b" }));
        Assert.That(daemon.Stderr, Does.Contain($"cannot write log file '{bed.LogPath}': No space left on device"));
        var sizeWhileFull = new FileInfo(bed.LogPath).Length;

        logFs.Free();
        await DaemonTestBed.WaitUntilAsync(() => bed.Log.Contains("log line(s) could not be written to this file"), ct);
        var resumedAt = bed.Log.IndexOf("log line(s) could not be written to this file", StringComparison.Ordinal);
        await DaemonTestBed.WaitUntilAsync(() => bed.Log.IndexOf("finished in", resumedAt, StringComparison.Ordinal) > 0, ct);
        Assert.That(new FileInfo(bed.LogPath).Length, Is.GreaterThan(sizeWhileFull));

        daemon.Signal(Posix.SigTerm);
        Assert.That(await daemon.WaitForExitAsync(ct), Is.EqualTo(0), daemon.Stderr);
        Assert.That(bed.Log, Does.Contain("daemon stopped"));
    }

    [Test, CancelAfter(120_000)]
    public async Task The_daemon_starts_backs_up_and_stops_with_exit_0_on_a_full_log_file_system(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        using var logFs = SmallFileSystem.MountOrIgnore(256 << 10, SmallFileSystemKind.Tmpfs, Path.Combine(bed.Root, "logfs"));
        bed.LogPath = Path.Combine(logFs.Path, "backy.log");
        File.WriteAllText(bed.LogPath, "");
        logFs.Fill();
        bed.WriteConfig("1s", 1, "a");
        using var notify = new NotifySocket();

        var daemon = bed.StartDaemon(notify);
        await notify.WaitForAsync("READY=1", ct);
        await DaemonTestBed.WaitUntilAsync(() => Backups(bed) >= 3, ct);
        daemon.Signal(Posix.SigTerm);

        // Before: the first log line failed the start, and FileLoggerProvider.Dispose aborted the process (rc 134).
        Assert.That(await daemon.WaitForExitAsync(ct), Is.EqualTo(0), daemon.Stderr);
        Assert.That(daemon.Stderr, Does.Contain("No space left on device"));
        Assert.That(daemon.Stderr, Does.Not.Contain("Unhandled exception"));
    }
}
