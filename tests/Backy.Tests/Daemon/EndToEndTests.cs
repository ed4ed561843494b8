using Backy.Tests.Daemon.Support;

namespace Backy.Tests.Daemon;

/// <summary>The real daemon with the real backy-worker and a real file source.</summary>
public class EndToEndTests
{
    private static string RealWorker => Path.Combine(TestContext.CurrentContext.TestDirectory, "backy-worker");

    private static void WriteImage(string path, int mib, int seed)
    {
        var random = new Random(seed);
        var block = new byte[1 << 20];
        using var file = File.Create(path);
        for (var i = 0; i < mib; i++)
        {
            random.NextBytes(block);
            file.Write(block);
        }
    }

    private static string[] CompleteRevisions(string jobDir) =>
        Directory.Exists(jobDir)
            ? Directory.GetFiles(jobDir, "*.rev").Where(f => File.ReadAllText(f).Contains("duration:")).ToArray()
            : [];

    private static string[] IncompleteRevisions(string jobDir) =>
        Directory.Exists(jobDir)
            ? Directory.GetFiles(jobDir, "*.rev").Where(f => !File.ReadAllText(f).Contains("duration:")).ToArray()
            : [];

    private static DaemonProcess StartWithRealWorker(DaemonTestBed bed, NotifySocket notify) =>
        DaemonProcess.Start(bed.ConfigPath, bed.LogPath, new Dictionary<string, string?>
        {
            ["BACKY_WORKER"] = RealWorker,
            ["BACKY_WORKER_GRACE"] = "20",
            ["NOTIFY_SOCKET"] = notify.Path,
        });

    private static void WriteConfig(DaemonTestBed bed, string image) =>
        File.WriteAllText(bed.ConfigPath, $$$"""
            global: {base-dir: {{{bed.BaseDir}}}}
            api: {addrs: 127.0.0.1, port: 0}
            schedules:
              fast: {often: {interval: 2s, keep: 100}}
            jobs:
              vm: {schedule: fast, source: {type: file, filename: {{{image}}}}}
            """);

    [Test, Category("Slow"), CancelAfter(120_000)]
    public async Task The_daemon_backs_up_a_file_with_the_real_worker_and_the_revision_restores(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        var image = Path.Combine(bed.Root, "vm.img");
        WriteImage(image, 9, seed: 1); // crosses the 4 MiB block boundary, odd block count
        WriteConfig(bed, image);
        using var notify = new NotifySocket();
        await using var daemon = StartWithRealWorker(bed, notify);

        await DaemonTestBed.WaitUntilAsync(() => bed.Log.Contains("vm: finished"), ct);
        daemon.Signal(Posix.SigTerm);
        Assert.That(await daemon.WaitForExitAsync(ct), Is.EqualTo(0), daemon.Stderr);

        var restored = Path.Combine(bed.Root, "restored.img");
        var restore = await CliWrap.Cli.Wrap(RealWorker).WithArguments(["-b", bed.JobDir("vm"), "restore", restored])
            .WithValidation(CliWrap.CommandResultValidation.None).ExecuteAsync(ct);
        Assert.That(restore.ExitCode, Is.EqualTo(0));
        Assert.That(File.ReadAllBytes(restored), Is.EqualTo(File.ReadAllBytes(image)));
        Assert.That(File.ReadAllText(Path.Combine(bed.JobDir("vm"), "config")), Does.Contain("often"));
    }

    [Test, Category("Slow"), CancelAfter(180_000)]
    public async Task SIGTERM_during_a_real_backup_exits_0_and_the_next_run_cleans_the_incomplete_revision(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        var image = Path.Combine(bed.Root, "vm.img");
        WriteImage(image, 400, seed: 2); // big enough that the backup is still running when we stop
        WriteConfig(bed, image);
        using (var notify = new NotifySocket())
        {
            await using var daemon = StartWithRealWorker(bed, notify);
            await DaemonTestBed.WaitUntilAsync(() => IncompleteRevisions(bed.JobDir("vm")).Length > 0, ct);

            daemon.Signal(Posix.SigTerm);

            Assert.That(await daemon.WaitForExitAsync(ct), Is.EqualTo(0), daemon.Stderr);
        }
        Assert.That(bed.Log, Does.Not.Contain("killed"), "the worker stopped within the grace period");

        using (var notify = new NotifySocket())
        {
            await using var daemon = StartWithRealWorker(bed, notify);
            await DaemonTestBed.WaitUntilAsync(() => CompleteRevisions(bed.JobDir("vm")).Length > 0, ct);
            daemon.Signal(Posix.SigTerm);
            Assert.That(await daemon.WaitForExitAsync(ct), Is.EqualTo(0), daemon.Stderr);
        }
        Assert.That(IncompleteRevisions(bed.JobDir("vm")), Is.Empty, "the next backup deleted the incomplete revision");
    }
}
