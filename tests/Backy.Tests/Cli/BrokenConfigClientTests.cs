using Backy.Tests.Api;
using Backy.Tests.Daemon.Support;
using static Backy.Tests.Editing.CommandRunner;

namespace Backy.Tests.Cli;

/// <summary>
/// The client reads only <c>api</c> and <c>peers</c> of backy.conf (issue 14, item 7): a typo in a job
/// while the daemon runs on its old configuration must not cut the operator off. Before: <c>check</c>
/// said UNKNOWN and <c>jobs</c> exited 1.
/// </summary>
public class BrokenConfigClientTests
{
    [Test, CancelAfter(90_000)]
    public async Task A_broken_job_leaves_the_client_working_with_one_warning(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        bed.WriteConfig("1h", 1, "a");
        var api = $"api: {{addrs: 127.0.0.1, port: {ApiHarness.FreePort()}, tokens: {{t: cli}}, cli-default: {{token: t}}}}\n";
        File.WriteAllText(bed.ConfigPath, File.ReadAllText(bed.ConfigPath).Replace(DaemonTestBed.ApiLine + "\n", "") + api); // the bed's own api line would be a duplicate key
        using var notify = new NotifySocket();
        bed.StartDaemon(notify);
        await notify.WaitForAsync("READY=1", ct);
        // The operator edits the file and mistypes a schedule; the daemon keeps its old configuration.
        File.WriteAllText(bed.ConfigPath, File.ReadAllText(bed.ConfigPath).Replace("schedule: fast", "schedule: fsat"));

        var check = await ProcessAsync(BackyExe, ["client", "-c", bed.ConfigPath, "check"], ct);
        var jobs = await ProcessAsync(BackyExe, ["client", "-c", bed.ConfigPath, "jobs"], ct);

        Assert.Multiple(() =>
        {
            Assert.That(check.ExitCode, Is.EqualTo(0), check.ToString());
            Assert.That(check.Out, Does.StartWith("OK - 1 job within SLA"), check.ToString());
            Assert.That(jobs.ExitCode, Is.EqualTo(0), jobs.ToString());
            Assert.That(jobs.Out, Does.Contain("1 job shown"));
            foreach (var r in new[] { check, jobs })
            {
                var warning = r.Err.Trim();
                Assert.That(warning, Does.Not.Contain("\n"), "one warning line");
                Assert.That(warning, Does.StartWith($"backy client: warning: {bed.ConfigPath} has 1 error outside api and peers")
                    .And.Contain("jobs.a.schedule: unknown schedule 'fsat'"));
            }
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task A_broken_api_section_is_still_an_error(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        bed.WriteConfig("1h", 1, "a");
        File.WriteAllText(bed.ConfigPath, File.ReadAllText(bed.ConfigPath).Replace(DaemonTestBed.ApiLine + "\n", "") + "api: {port: many, cli-default: {token: t}}\n"); // the bed's own api line would be a duplicate key

        var check = await ProcessAsync(BackyExe, ["client", "-c", bed.ConfigPath, "check"], ct);

        Assert.That(check.ExitCode, Is.EqualTo(3), check.ToString());
        Assert.That(check.Out, Does.StartWith("UNKNOWN - invalid configuration").And.Contain("api.port"));
    }
}
