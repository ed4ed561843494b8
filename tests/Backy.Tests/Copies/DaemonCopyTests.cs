using System.Globalization;
using Backy.Storage.Copies;
using Backy.Tests.Api;
using Backy.Tests.Daemon.Support;

namespace Backy.Tests.Copies;

/// <summary>
/// The real daemon with the real worker, copying a job to the test RGW after each run: the copy restores on its
/// own; a target that fails leaves the backups alone, warns, backs off (also across a restart) and makes
/// `client check` WARNING; the copy-lag metric follows.
/// </summary>
[Category("Ceph")]
public class DaemonCopyTests
{
    private const string Token = "copy-test-token";
    private static string RealWorker => Path.Combine(TestContext.CurrentContext.TestDirectory, "backy-worker");

    private sealed record Ports(int Api, int Metrics);

    private static void WriteConfig(DaemonTestBed bed, Ports ports, string image, string bucket, string interval, string secret, string? endpoint = null) =>
        File.WriteAllText(bed.ConfigPath, $$$"""
            global: {base-dir: {{{bed.BaseDir}}}}
            api:
              addrs: 127.0.0.1
              port: {{{ports.Api}}}
              metrics-port: {{{ports.Metrics}}}
              tokens:
                {{{Token}}}: tests
              cli-default:
                token: {{{Token}}}
            schedules:
              s: {often: {interval: {{{interval}}}, keep: 100}}
            copies:
              offsite: {type: s3, endpoint: "{{{endpoint ?? RgwFixture.Endpoint}}}", bucket: {{{bucket}}}, prefix: site/, region: default, access-key: {{{RgwFixture.AccessKey}}}, secret-key: "{{{secret}}}"}
            jobs:
              vm: {schedule: s, source: {type: file, filename: {{{image}}}}, copies: [offsite]}
            """);

    private static DaemonProcess Start(DaemonTestBed bed) =>
        DaemonProcess.Start(bed.ConfigPath, bed.LogPath, new Dictionary<string, string?> { ["BACKY_WORKER"] = RealWorker, ["BACKY_WORKER_GRACE"] = "20" });

    private static async Task StopAsync(DaemonProcess daemon, CancellationToken ct)
    {
        daemon.Signal(Posix.SigTerm);
        Assert.That(await daemon.WaitForExitAsync(ct), Is.Zero, daemon.Stderr);
    }

    private static Task<ClientRunner.Result> Client(DaemonTestBed bed, CancellationToken ct, params string[] args) =>
        ClientRunner.ExecutableAsync(["-c", bed.ConfigPath, .. args], ct);

    /// <summary>The value of <c>backy_job_copy_lag_seconds</c> for the job, or null while the daemon does not answer.</summary>
    private static async Task<double?> CopyLagAsync(Ports ports, CancellationToken ct)
    {
        using var http = new HttpClient();
        string text;
        try { text = await http.GetStringAsync($"http://127.0.0.1:{ports.Metrics}/metrics", ct); }
        catch (HttpRequestException) { return null; }
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("backy_job_copy_lag_seconds{", StringComparison.Ordinal)
            && l.Contains("job=\"vm\"", StringComparison.Ordinal) && l.Contains("copy=\"offsite\"", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }

    /// <summary>Polls <paramref name="condition"/> for up to 3 minutes; a daemon that exits meanwhile (a config it
    /// refuses) or a condition that never comes fails the test with the end of the daemon's log.</summary>
    private static async Task WaitAsync(DaemonTestBed bed, DaemonProcess daemon, Func<bool> condition, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (!condition())
        {
            string Tail() => bed.Log[Math.Max(0, bed.Log.Length - 4000)..];
            if (daemon.HasExited) Assert.Fail($"the daemon exited: {daemon.Stderr}\n{Tail()}");
            if (DateTime.UtcNow > deadline) Assert.Fail($"waited 3 min in vain; the daemon's log ends:\n{Tail()}");
            await Task.Delay(200, ct);
        }
    }

    private static int Count(string text, string what) => text.Split(what).Length - 1;

    [Test, CancelAfter(480_000)]
    public async Task The_daemon_copies_each_run_and_a_failing_copy_warns_backs_off_and_never_fails_the_backup(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        var bucket = await RgwFixture.NewBucketAsync(ct);
        using var store = RgwFixture.Store(bucket);
        var image = Path.Combine(bed.Root, "vm.img");
        var data = new byte[9 << 20];
        new Random(17).NextBytes(data);
        File.WriteAllBytes(image, data);
        var ports = new Ports(ApiHarness.FreePort(), ApiHarness.FreePort());
        var jobDir = bed.JobDir("vm");

        // 1. A working copy: a run (triggered: the hourly one may be an hour away) backs up and copies.
        WriteConfig(bed, ports, image, bucket, "1h", RgwFixture.SecretKey);
        await using (var daemon = Start(bed))
        {
            while ((await Client(bed, ct, "run", "vm")).ExitCode != 0)
            {
                Assert.That(daemon.HasExited, Is.False, daemon.Stderr);
                await Task.Delay(200, ct);
            }
            await WaitAsync(bed, daemon, () => CopyStatusFile.TryRead(jobDir, "offsite") is { LastSuccess: not null }, ct);
            await WaitAsync(bed, daemon, () => bed.Log.Contains("vm: finished"), ct);
            double? lag;
            while ((lag = await CopyLagAsync(ports, ct)) is null) await Task.Delay(200, ct);
            Assert.That(lag, Is.Zero, "the copy has the one revision");
            var check = await Client(bed, ct, "check");
            Assert.That(check.ExitCode, Is.Zero, check.ToString());
            await StopAsync(daemon, ct);
        }
        var keys = new List<string>();
        await foreach (var o in store.ListAsync("site/vm/", recursive: true, ct)) keys.Add(o.Key);
        Assert.That(keys.Count(k => k.EndsWith(".rev", StringComparison.Ordinal)), Is.EqualTo(1), string.Join("\n", keys));
        Assert.That(keys.Count(k => k.Contains("/chunks/", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(3), "9 MiB of random data: 3 chunks");
        var restored = Path.Combine(bed.Root, "restored.img");
        var restore = await CopyJob.FromAsync(ct, null, "restore", "--from", $"s3://{bucket}/site/vm", restored);
        Assert.That(restore.ExitCode, Is.Zero, restore.StdErr);
        Assert.That(File.ReadAllBytes(restored), Is.EqualTo(data), "restored from the bucket alone");

        // 2. The target refuses our credentials; runs every 2 s. Backups go on, the copy warns, then backs off.
        WriteConfig(bed, ports, image, bucket, "2s", "not-the-secret");
        await using (var daemon = Start(bed))
        {
            await WaitAsync(bed, daemon, () => Count(bed.Log, "copy of vm to offsite skipped") >= 2, ct);
            ClientRunner.Result check;
            while ((check = await Client(bed, ct, "check")).ExitCode != 1) await Task.Delay(200, ct);
            Assert.That(check.Out, Does.StartWith("WARNING").And.Contain("offsite"), check.ToString());
            double? lag;
            while ((lag = await CopyLagAsync(ports, ct)) is not > 3) await Task.Delay(200, ct);
            await StopAsync(daemon, ct);
        }
        var log = bed.Log;
        Assert.That(log, Does.Contain("copy of vm failed (the backup is not affected)"));
        Assert.That(log, Does.Not.Contain("not-the-secret"), "secrets are never logged");
        Assert.That(log, Does.Not.Contain("vm: failed"), "a failing copy never fails the run");
        var status = CopyStatusFile.TryRead(jobDir, "offsite")!;
        Assert.That(status.LastError, Is.Not.Null);
        Assert.That(status.Failures, Is.GreaterThanOrEqualTo(2));
        // One warning per recorded failure (the stop may come between the worker's record and the daemon's warning).
        Assert.That(Count(log, "copy of vm failed"), Is.InRange(status.Failures - 1, status.Failures));
        Assert.That(Count(log, "vm: finished"), Is.GreaterThan(status.Failures + 1), "runs that skipped the copy still backed up");
        var revs = new List<string>();
        await foreach (var o in store.ListAsync("site/vm/", recursive: false, ct))
            if (o.Key.EndsWith(".rev", StringComparison.Ordinal)) revs.Add(o.Key);
        Assert.That(revs, Is.EqualTo(keys.Where(k => k.EndsWith(".rev", StringComparison.Ordinal))), "nothing reached the copy without credentials");

        // 3. The back-off is in the job directory: after a restart a long wait still holds, however often the job runs.
        (status with { Failures = 12, LastAttempt = DateTimeOffset.UtcNow }).Write(jobDir, "offsite");
        var before = bed.Log.Length;
        await using (var daemon = Start(bed))
        {
            await WaitAsync(bed, daemon, () => Count(bed.Log[before..], "vm: finished") >= 2, ct);
            await StopAsync(daemon, ct);
        }
        var after = bed.Log[before..];
        Assert.That(after, Does.Contain("copy of vm to offsite skipped: 12 failed attempt(s) in a row"));
        Assert.That(after, Does.Not.Contain("copy of vm failed"), "no attempt while backed off");
    }

    [Test, CancelAfter(300_000)]
    public async Task A_target_that_accepts_connections_and_never_answers_fails_the_copy_naming_it_and_the_backup_succeeds(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        using var silent = new SilentListener();
        var image = Path.Combine(bed.Root, "vm.img");
        var data = new byte[5 << 20];
        new Random(23).NextBytes(data);
        File.WriteAllBytes(image, data);
        var ports = new Ports(ApiHarness.FreePort(), ApiHarness.FreePort());
        WriteConfig(bed, ports, image, "silent", "1h", "secret", silent.Endpoint);
        await using var daemon = Start(bed);
        while ((await Client(bed, ct, "run", "vm")).ExitCode != 0)
        {
            Assert.That(daemon.HasExited, Is.False, daemon.Stderr);
            await Task.Delay(200, ct);
        }
        // Without the idle timeout the worker held the run for the SDK's 2 min per attempt, 3 attempts (WaitAsync
        // gives up after 3 min).
        await WaitAsync(bed, daemon, () => bed.Log.Contains("vm: finished"), ct);
        var log = bed.Log;
        Assert.That(log, Does.Contain("copy of vm failed (the backup is not affected)"));
        Assert.That(log, Does.Contain($"{silent.Endpoint} has not answered for 10 s"));
        Assert.That(log, Does.Not.Contain("vm: failed"));
        Assert.That(silent.Accepted, Is.GreaterThanOrEqualTo(1));
        Assert.That(new Backy.Storage.Jobs.JobDirectory(bed.JobDir("vm")).CompleteRevisions(), Has.Count.EqualTo(1), "the backup went in");
        Assert.That(CopyStatusFile.TryRead(bed.JobDir("vm"), "offsite")!.LastError, Does.Contain(silent.Endpoint));
        await StopAsync(daemon, ct);
    }
}
