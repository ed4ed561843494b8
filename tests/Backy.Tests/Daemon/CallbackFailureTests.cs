using Backy.Tests.Daemon.Support;

namespace Backy.Tests.Daemon;

/// <summary>A failing backup-completed-callback (issue 14.5), with the real daemon: the backup stands.</summary>
public class CallbackFailureTests
{
    [Test, CancelAfter(60_000)]
    public async Task A_failing_callback_is_logged_with_its_exit_code_and_output_and_fails_nothing(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        var callback = Path.Combine(bed.Root, "callback");
        // Exit 3 after a line on each stream, and far more stdout than the log keeps.
        File.WriteAllText(callback, "#!/bin/sh\ncat >/dev/null\necho \"monitoring says no for $1\"\necho 'cannot reach monitoring' >&2\nyes flood | head -c 100000\nexit 3\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(callback, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        bed.WriteConfigWithCallback("2s", 1, callback, "a");
        using var notify = new NotifySocket();
        var daemon = bed.StartDaemon(notify);

        await DaemonTestBed.WaitUntilAsync(() => bed.Log.Split('\n').Count(l => l.Contains("a: finished")) >= 2, ct);
        daemon.Signal(Posix.SigTerm);
        Assert.That(await daemon.WaitForExitAsync(ct), Is.EqualTo(0), daemon.Stderr);

        var warning = bed.Log.Split('\n').First(l => l.Contains("backup-completed-callback"));
        Assert.That(warning, Does.Contain("warn ").And.Contain("exited with 3").And.Contain("the backup stands"));
        Assert.That(bed.Log, Does.Contain("monitoring says no for a").And.Contain("cannot reach monitoring"));
        Assert.That(bed.Log, Does.Contain("more characters not kept"));
        Assert.That(bed.Log.Length, Is.LessThan(100_000), "the callback's output is bounded in the log");
        // Before: "a: failed (failure 1, retry in 2 min)" and the same backup again two minutes later.
        Assert.That(bed.Log, Does.Not.Contain("failed (failure"));
    }
}
