using Backy.Bench.ApiLoad;
using Backy.Tests.Daemon.Support;

namespace Backy.Tests.Api;

/// <summary>
/// Issue 8, load: a short run of the load generator behind <c>bench/api-load/run</c> against the
/// real daemon process while backups queue for the worker slots. Only correctness is asserted
/// (no failed call); the latency figures are in RELIABILITY.md from the full run.
/// </summary>
[Category("Slow")]
[CancelAfter(180_000)]
public class ApiLoadTests
{
    [Test]
    public async Task Concurrent_clients_get_every_call_answered_while_backups_run(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        var jobs = Enumerable.Range(1, 20).Select(i => $"vm{i:00}").ToArray();
        foreach (var job in jobs)
            bed.Mark(job, "sleep", "1"); // each backup holds its worker slot for a second
        Directory.CreateDirectory(bed.JobDir("retired"));
        var port = await DaemonApiTests.StartAsync(bed, ct, jobs, workerLimit: 4);
        var url = new Uri($"http://127.0.0.1:{port}");
        var options = new LoadOptions(url, DaemonApiTests.Token, Clients: 10, Duration: TimeSpan.FromSeconds(5), DeadBackup: "retired");

        var started = await LoadRun.RunAllAsync(url, DaemonApiTests.Token, ct);
        var report = await LoadRun.RunAsync(options, ct);

        TestContext.Out.Write(report.Format(options.Duration));
        Assert.That(started, Is.EqualTo(20));
        Assert.That(report.Failures, Is.Zero, string.Join("\n", report.FirstFailures));
        Assert.That(report.Calls, Is.GreaterThan(10), "every client got calls through");
        Assert.That(report.MaxRunningSeen, Is.GreaterThan(0), "backups ran while the load was measured");
        Assert.That(bed.Worker.Records().Count(r => r is { Kind: "start", Action: "backup" }), Is.GreaterThan(0));
    }
}
