using System.Text.RegularExpressions;
using Backy.Tests.Daemon.Support;

namespace Backy.Tests.Daemon;

/// <summary>The daemon and the real worker write one line format (Storage/Logging/LogLine): one grep for a
/// run's task id finds it in both logs (before: the daemon wrote "job=vm taskid=ID", the worker "[ID] [vm]").</summary>
public class LogFormatTests
{
    [Test, CancelAfter(120_000)]
    public async Task A_run_reads_the_same_in_the_daemon_log_and_in_the_job_log(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        var image = Path.Combine(bed.Root, "vm.img");
        File.WriteAllBytes(image, Enumerable.Range(0, 1 << 20).Select(i => (byte)(i * 7)).ToArray());
        File.WriteAllText(bed.ConfigPath, $$$"""
            global: {base-dir: {{{bed.BaseDir}}}}
            {{{DaemonTestBed.ApiLine}}}
            schedules:
              fast: {often: {interval: 2s, keep: 3}}
            jobs:
              vm: {schedule: fast, source: {type: file, filename: {{{image}}}}}
            """);
        using var notify = new NotifySocket();
        await using var daemon = DaemonProcess.Start(bed.ConfigPath, bed.LogPath, new Dictionary<string, string?>
        {
            ["BACKY_WORKER"] = Path.Combine(TestContext.CurrentContext.TestDirectory, "backy-worker"),
            ["NOTIFY_SOCKET"] = notify.Path,
        });

        await DaemonTestBed.WaitUntilAsync(() => bed.Log.Contains("vm: finished"), ct);
        daemon.Signal(Posix.SigTerm);
        Assert.That(await daemon.WaitForExitAsync(ct), Is.EqualTo(0), daemon.Stderr);

        var started = Regex.Match(bed.Log, @"^\S+Z info  \[([a-z0-9]{8})\] \[vm\] JobRun: backing up vm with tags often$", RegexOptions.Multiline);
        Assert.That(started.Success, Is.True, bed.Log);
        var taskId = started.Groups[1].Value;
        var jobLog = File.ReadAllText(Path.Combine(bed.JobDir("vm"), "backy.log"));
        Assert.That(Regex.IsMatch(jobLog, $@"^\S+Z (info |debug) \[{taskId}\] \[vm\] backup: ", RegexOptions.Multiline), Is.True, jobLog);
        Assert.That(bed.Log, Does.Not.Contain("taskid="));
    }
}
