using Backy.Daemon.Scheduling;
using Backy.Daemon.Api;

namespace Backy.Tests.Api;

/// <summary><c>backy client check</c> through the real executable: monitoring reads its exit code
/// and first line.</summary>
[CancelAfter(60_000)]
public class ClientCheckTests
{
    [Test]
    public async Task All_jobs_within_sla_is_OK(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();

        var result = await ClientRunner.ExecutableAsync(["-c", api.ConfigPath, "check"], ct);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(FirstLine(result), Is.EqualTo("OK - 2 jobs within SLA"));
    }

    [Test]
    public async Task Quarantine_report_is_WARNING(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        var quarantine = Path.Join(api.BaseDir, "beta", "quarantine");
        Directory.CreateDirectory(quarantine);
        File.WriteAllText(Path.Join(quarantine, "abc.report"), "uuid: abc\n");

        var result = await ClientRunner.ExecutableAsync(["-c", api.ConfigPath, "check"], ct);

        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(FirstLine(result), Is.EqualTo("WARNING - quarantine reports in 1 job: beta"));
        Assert.That(result.Out, Does.Contain("beta: 1 quarantine report"));
    }

    [Test]
    public async Task Overdue_job_is_CRITICAL_even_with_quarantine_reports(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync(jobs: ["a", "b", "c"]);
        var last = new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);
        foreach (var name in new[] { "a", "c" })
            api.Daemon.SetState(StubDaemon.Waiting(name) with { SlaOk = false, SlaOverdue = TimeSpan.FromHours(5), LastTime = last });
        Directory.CreateDirectory(Path.Join(api.BaseDir, "b", "quarantine"));
        File.WriteAllText(Path.Join(api.BaseDir, "b", "quarantine", "x.report"), "uuid: x\n");

        var result = await ClientRunner.ExecutableAsync(["-c", api.ConfigPath, "check"], ct, timeZone: "Europe/Berlin");

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(FirstLine(result), Is.EqualTo("CRITICAL - 2 jobs overdue: a, c"));
        Assert.That(result.Out, Does.Contain("a: SLA overdue by 5 hours, last backup 2026-11-20 09:00:00 (Europe/Berlin)"));
        Assert.That(result.Out, Does.Contain("b: 1 quarantine report"));
    }

    [Test]
    public async Task Unreachable_daemon_is_UNKNOWN(CancellationToken ct)
    {
        var url = $"http://127.0.0.1:{ApiHarness.FreePort()}";

        var result = await ClientRunner.ExecutableAsync(["--url", url, "--token", "t", "check"], ct);

        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(FirstLine(result), Does.StartWith($"UNKNOWN - cannot reach the backy daemon at {url}/"));
    }

    [Test]
    public async Task Refused_token_is_UNKNOWN(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();

        var result = await ClientRunner.ExecutableAsync(["--url", api.Url.ToString(), "--token", "wrong", "check"], ct);

        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(FirstLine(result), Does.StartWith("UNKNOWN - the backy daemon at").And.Contain("refused the token"));
    }

    [Test]
    public async Task Jobs_table_names_the_clients_time_zone(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();

        var result = await ClientRunner.ExecutableAsync(["-c", api.ConfigPath, "jobs"], ct, timeZone: "Europe/Berlin");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(result.Out, Does.Contain("Last Backup (Europe/Berlin)"));
        Assert.That(result.Out.TrimEnd(), Does.EndWith("2 jobs shown"));
    }

    private static string FirstLine(ClientRunner.Result result) => result.Out.Split('\n')[0].TrimEnd();
}
