using System.Text.RegularExpressions;
using Backy.Protocol.V1;
using Backy.Tests.Api;
using Backy.Tests.Daemon.Support;
using Backy.Tests.Storage.Support;
using Grpc.Core;
using Grpc.Net.Client;

namespace Backy.Tests.Progress;

/// <summary>
/// Progress of a running backup, end to end: the real daemon runs the real worker on a source slowed to 4 MiB/s
/// (nbdfuse serving nbdkit's rate filter, <see cref="NbdFuseFile"/>), and gRPC GetStatus, <c>backy client jobs</c>
/// and <c>backy client status</c> show how far it is; a worker killed with SIGKILL leaves no progress behind, and
/// neither does a run that finished.
/// </summary>
public partial class DaemonProgressTests
{
    private const string Token = "progress-token";

    private static string RealWorker => Path.Combine(TestContext.CurrentContext.TestDirectory, "backy-worker");

    [Test, Category("Slow"), CancelAfter(240_000)]
    public async Task A_running_backup_shows_its_progress_and_neither_a_killed_nor_a_finished_one_leaves_any(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        var backing = Path.Combine(bed.Root, "backing.img");
        // 10 blocks of random data: 10 blocks read + 10 verified = 20 units, ~20 s to read at 2 MiB/s.
        await File.WriteAllBytesAsync(backing, RandomBytes(40 << 20), ct);
        // rate= is in bits per second: 16 Mbit/s = 2 MiB/s. The seam that makes the backup slow; the test still polls,
        // and says so when the backup finished before the client could show it.
        await using var slow = await NbdFuseFile.MountOrIgnoreAsync(backing, Path.Combine(bed.Root, "mnt"), ct, ["--filter=rate"], ["rate=16M"]);
        var port = ApiHarness.FreePort();
        File.WriteAllText(bed.ConfigPath, $$$"""
            global: {base-dir: {{{bed.BaseDir}}}}
            api: {addrs: 127.0.0.1, port: {{{port}}}, tokens: {{{{Token}}}: cli}, cli-default: {token: {{{Token}}}}}
            schedules:
              daily: {daily: {interval: 1d, keep: 3}}
            jobs:
              vm: {schedule: daily, source: {type: file, filename: {{{slow.Path}}}}}
            """);
        await using var daemon = DaemonProcess.Start(bed.ConfigPath, bed.LogPath, new Dictionary<string, string?> { ["BACKY_WORKER"] = RealWorker });
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        var jobs = new Jobs.JobsClient(channel);
        try
        {
            // 1. The first backup (no history: slow; started now, not at its daily deadline) reports progress in all three views.
            await WaitForAsync(daemon, jobs, j => j.Status == "waiting for deadline", ct);
            var trigger = await ClientRunner.ExecutableAsync(["-c", bed.ConfigPath, "run", "vm"], ct);
            Assert.That(trigger.ExitCode, Is.Zero, trigger.ToString());
            var progress = await WaitForProgressAsync(daemon, jobs, ct);
            Assert.That(progress.Percent, Is.GreaterThan(0).And.LessThan(100));
            Assert.That(progress.Operation, Is.EqualTo("backup"));
            Assert.That(progress.BlocksTotal, Is.EqualTo(20), "10 blocks read and 10 verified");
            Assert.That(progress.BytesRead, Is.GreaterThan(0));

            var row = await PollClientAsync(bed, "jobs", text => JobsStatusCell(text) is { } cell && ShowsProgress(cell), ct);
            Assert.That(JobsStatusCell(row), Does.Match(@"^running \(slow\) \d{1,2} %"), row);
            var status = await PollClientAsync(bed, "status", text => StatusLine().Match(text) is { Success: true } m && ShowsProgress(m.Value), ct);
            Assert.That(status, Does.Contain("running (slow)"));

            // 2. SIGKILL the backup worker: no progress of a worker that is gone.
            var pid = WorkerPid(bed.Log, "backup");
            Posix.Signal(pid, Posix.SigKill);
            var failed = await WaitForAsync(daemon, jobs, j => j.Status == "failed", ct);
            Assert.That(failed.Progress, Is.Null, "a killed worker leaves no progress");
            var afterKill = await ClientRunner.ExecutableAsync(["-c", bed.ConfigPath, "jobs"], ct);
            Assert.That(JobsStatusCell(afterKill.Out), Is.EqualTo("failed"), afterKill.ToString());

            // 3. Run it again to the end: after the run, nothing.
            var run = await ClientRunner.ExecutableAsync(["-c", bed.ConfigPath, "run", "vm"], ct);
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
            await DaemonTestBed.WaitUntilAsync(() => bed.Log.Contains("vm: finished"), ct);
            var finished = await WaitForAsync(daemon, jobs, j => !j.Status.StartsWith("running", StringComparison.Ordinal), ct);
            Assert.That(finished.Progress, Is.Null, "a finished run shows no progress");
            var afterRun = await ClientRunner.ExecutableAsync(["-c", bed.ConfigPath, "jobs"], ct);
            Assert.That(JobsStatusCell(afterRun.Out), Does.Not.Contain("%"), afterRun.ToString());
            var statusAfter = await ClientRunner.ExecutableAsync(["-c", bed.ConfigPath, "status"], ct);
            Assert.That(StatusLine().IsMatch(statusAfter.Out), Is.False, statusAfter.ToString());
            Assert.That(bed.Log, Does.Not.Contain("backy-progress"), "progress lines are not log lines");
        }
        finally
        {
            // Stop the daemon (and with it any worker) before the mount goes away.
            daemon.Signal(Posix.SigTerm);
            await daemon.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
        }
    }

    private static bool ShowsProgress(string text) =>
        Regex.Match(text, @"running \(slow\) (\d+) %") is { Success: true } m && int.Parse(m.Groups[1].Value) is > 0 and < 100;

    private static CallOptions Call(CancellationToken ct) =>
        new(new Metadata { { "authorization", $"Bearer {Token}" } }, cancellationToken: ct);

    /// <summary>Polls GetStatus until vm's status satisfies <paramref name="condition"/>; a timeout names the last one seen.</summary>
    private static async Task<JobStatus> WaitForAsync(DaemonProcess daemon, Jobs.JobsClient jobs, Func<JobStatus, bool> condition, CancellationToken ct)
    {
        object? last = null;
        try
        {
            while (true)
            {
                if (daemon.HasExited) Assert.Fail("the daemon exited: " + daemon.Stderr);
                try
                {
                    var reply = await jobs.GetStatusAsync(new GetStatusRequest(), Call(ct));
                    var vm = reply.Jobs.SingleOrDefault(j => j.Name == "vm");
                    last = vm;
                    if (vm is not null && condition(vm)) return vm;
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable) { last = e.Status; } // not listening yet
                await Task.Delay(100, ct);
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"timed out; the last status: {last}");
            throw;
        }
    }

    private static async Task<JobProgress> WaitForProgressAsync(DaemonProcess daemon, Jobs.JobsClient jobs, CancellationToken ct) =>
        (await WaitForAsync(daemon, jobs, j => j.Status == "running (slow)" && j.Progress is { Percent: > 0 and < 100 }, ct)).Progress;

    /// <summary>Runs <c>backy client ACTION</c> until its stdout satisfies <paramref name="shows"/>; returns that stdout.</summary>
    private static async Task<string> PollClientAsync(DaemonTestBed bed, string action, Func<string, bool> shows, CancellationToken ct)
    {
        while (true)
        {
            var r = await ClientRunner.ExecutableAsync(["-c", bed.ConfigPath, action], ct);
            Assert.That(r.ExitCode, Is.Zero, r.ToString());
            if (shows(r.Out)) return r.Out;
            if (bed.Log.Contains("vm: finished") || bed.Log.Contains("vm: failed"))
                Assert.Fail($"the backup ended before `client {action}` showed its progress; last output:\n{r.Out}");
            await Task.Delay(200, ct);
        }
    }

    /// <summary>The Status cell of vm's row in <c>backy client jobs</c>, or null without that row.</summary>
    private static string? JobsStatusCell(string output)
    {
        var row = output.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith("│ vm ", StringComparison.Ordinal));
        return row?.Split('│').Select(c => c.Trim()).ToArray()[1..^1][3];
    }

    [GeneratedRegex(@"^vm: running \(slow\) .*$", RegexOptions.Multiline)]
    private static partial Regex StatusLine();

    /// <summary>The pid of the newest backy-worker ACTION the daemon started (its log: "started backy-worker ... (pid N)").</summary>
    private static int WorkerPid(string log, string action)
    {
        var started = Regex.Matches(log, @"started backy-worker .* " + action + @" .*\(pid (\d+)\)");
        Assert.That(started, Is.Not.Empty, "the daemon log names the worker's pid");
        return int.Parse(started[^1].Groups[1].Value);
    }

    private static byte[] RandomBytes(int n)
    {
        var b = new byte[n];
        new Random(18).NextBytes(b);
        return b;
    }
}
