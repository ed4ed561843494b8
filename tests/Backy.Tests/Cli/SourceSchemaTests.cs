using Backy.Tests.Daemon.Support;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Cli;

/// <summary>
/// One declaration of each source type's settings (issue 14, item 11): what the real backy-daemon
/// accepts, the real backy-worker runs, and both refuse the same mistakes with the same reason. Before:
/// <c>cow: yes</c> passed the worker and the daemon refused it.
/// </summary>
public class SourceSchemaTests
{
    [Test, CancelAfter(120_000)]
    public async Task A_job_with_cow_yes_starts_in_the_daemon_and_backs_up_in_the_worker(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        var image = Path.Join(bed.Root, "vm.img");
        TestImages.WriteMixed(image, 1 << 20, seed: 3);
        File.WriteAllText(bed.ConfigPath, $$$"""
            global: {base-dir: {{{bed.BaseDir}}}}
            {{{DaemonTestBed.ApiLine}}}
            schedules:
              fast: {often: {interval: 2s, keep: 3}}
            jobs:
              vm: {schedule: fast, source: {type: file, filename: {{{image}}}, cow: yes}}
            """);
        using var notify = new NotifySocket();
        await using var daemon = DaemonProcess.Start(bed.ConfigPath, bed.LogPath, new Dictionary<string, string?>
        {
            ["BACKY_WORKER"] = Path.Join(AppContext.BaseDirectory, "backy-worker"),
            ["NOTIFY_SOCKET"] = notify.Path,
        });

        await DaemonTestBed.WaitUntilAsync(() => bed.Log.Contains("vm: finished") || daemon.HasExited || bed.Log.Contains("vm: failed"), ct);

        Assert.That(bed.Log, Does.Contain("vm: finished"), daemon.Stderr);
        Assert.That(notify.Messages, Does.Contain("READY=1"));
    }

    [TestCase("cow: maybe", "source.cow: 'maybe' is not a boolean (true or false)")]
    [TestCase("snapshot: yes", "source.snapshot: unknown key for source type 'file' (expected one of: filename, cow)")]
    public async Task Daemon_and_worker_refuse_the_same_setting_with_the_same_reason(string setting, string reason)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var bed = new DaemonTestBed();
        File.WriteAllText(bed.ConfigPath, $$$"""
            global: {base-dir: {{{bed.BaseDir}}}}
            {{{DaemonTestBed.ApiLine}}}
            schedules:
              fast: {often: {interval: 1h, keep: 3}}
            jobs:
              vm: {schedule: fast, source: {type: file, filename: /x, {{{setting}}}}}
            """);
        var job = Path.Join(bed.Root, "job");
        Directory.CreateDirectory(job);
        File.WriteAllText(Path.Join(job, "config"), $"source: {{type: file, filename: /x, {setting}}}\nschedule: {{daily: {{interval: 1d, keep: 3}}}}\n");

        var daemon = bed.StartDaemon();
        var daemonExit = await daemon.WaitForExitAsync(cts.Token);
        var worker = await WorkerProcess.RunAsync(job, cts.Token, "backup", "daily");

        Assert.That(daemonExit, Is.EqualTo(1), daemon.Stderr);
        Assert.That(daemon.Stderr, Does.Contain($"{bed.ConfigPath}:6: jobs.vm.{reason}"));
        Assert.That(worker.ExitCode, Is.EqualTo(1), worker.StdErr);
        Assert.That(worker.StdErr.TrimEnd().Split('\n')[^1], Is.EqualTo($"backy-worker: {reason}"));
    }
}
