using Grpc.Core;
using Backy.Daemon.Scheduling;
using Backy.Daemon.Api;

namespace Backy.Tests.Api;

[CancelAfter(30_000)]
public class ClientCommandTests
{
    private static readonly DateTimeOffset Last = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);

    [Test]
    public async Task Jobs_draws_the_table_with_time_zone_humanized_durations_and_dead_directories()
    {
        await using var api = await ApiHarness.StartAsync();
        api.Daemon.SetState(StubDaemon.Snapshot("alpha", "default", "waiting for deadline", true, TimeSpan.Zero,
            Last, ["daily", "weekly"], TimeSpan.FromSeconds(50), Last.AddDays(1), ["daily"]));
        api.Daemon.SetState(StubDaemon.Snapshot("beta", "default", "failed", false, TimeSpan.FromMinutes(2.5),
            Last, ["daily"], TimeSpan.FromSeconds(70), null, []));
        Directory.CreateDirectory(Path.Join(api.BaseDir, "gone"));

        var result = await ClientRunner.InProcessAsync("-c", api.ConfigPath, "jobs");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        var zone = TimeZoneInfo.Local;
        var lines = result.Out.Split('\n');
        Assert.Multiple(() =>
        {
            Assert.That(result.Out, Does.Contain($"Last Backup ({zone.Id})").And.Contain($"Next Backup ({zone.Id})"));
            Assert.That(Row(lines, "alpha"), Does.Contain("OK").And.Contain("daily,weekly").And.Contain("50 seconds")
                .And.Contain(JobsTableTime(Last, zone)).And.Contain(JobsTableTime(Last.AddDays(1), zone)));
            Assert.That(Row(lines, "beta"), Does.Contain("TOO OLD").And.Contain("2 minutes").And.Contain("a minute").And.Contain("failed"));
            Assert.That(Row(lines, "gone"), Does.Contain("Dead"));
            Assert.That(result.Out.TrimEnd(), Does.EndWith("3 jobs shown"));
            Assert.That(result.Out, Does.Contain("┏").And.Contain("┡"), "heavy head border like the manual");
        });
    }

    [Test]
    public async Task Jobs_filter_applies_to_jobs_and_dead_directories()
    {
        await using var api = await ApiHarness.StartAsync();
        Directory.CreateDirectory(Path.Join(api.BaseDir, "beta-old"));
        Directory.CreateDirectory(Path.Join(api.BaseDir, "zulu"));

        var result = await ClientRunner.InProcessAsync("-c", api.ConfigPath, "jobs", "^beta");

        Assert.That(result.Out, Does.Contain("beta-old").And.Not.Contain("alpha").And.Not.Contain("zulu"));
        Assert.That(result.Out.TrimEnd(), Does.EndWith("2 jobs shown"));
    }

    [Test]
    public async Task Jobs_with_an_invalid_filter_fails_with_the_reason_on_one_line()
    {
        await using var api = await ApiHarness.StartAsync();

        var result = await ClientRunner.InProcessAsync("-c", api.ConfigPath, "jobs", "[a-");

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Err.Trim(), Does.StartWith("backy client: invalid filter '[a-'").And.Not.Contain("\n"));
        Assert.That(result.Out, Is.Empty);
    }

    [Test]
    public async Task Status_counts_jobs_per_state_with_dead_directories()
    {
        await using var api = await ApiHarness.StartAsync(jobs: ["a", "b", "c"]);
        api.Daemon.SetState(StubDaemon.Waiting("a") with { Status = "running (fast)" });
        Directory.CreateDirectory(Path.Join(api.BaseDir, "old1"));
        Directory.CreateDirectory(Path.Join(api.BaseDir, "old2"));

        var result = await ClientRunner.InProcessAsync("-c", api.ConfigPath, "status");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        var lines = result.Out.Split('\n');
        Assert.That(Row(lines, "Dead"), Does.Match(@"Dead\s+│\s+2 "));
        Assert.That(Row(lines, "running (fast)"), Does.Match(@"running \(fast\)\s+│\s+1 "));
        Assert.That(Row(lines, "waiting for deadline"), Does.Match(@"waiting for deadline\s+│\s+2 "));
    }

    [Test]
    public async Task Run_triggers_the_job_and_runall_triggers_every_job()
    {
        await using var api = await ApiHarness.StartAsync(jobs: ["a", "b", "c"]);

        var run = await ClientRunner.InProcessAsync("-c", api.ConfigPath, "run", "b");
        var runAll = await ClientRunner.InProcessAsync("-c", api.ConfigPath, "runall");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(runAll.ExitCode, Is.EqualTo(0), runAll.ToString());
        Assert.That(runAll.Out, Does.Contain("3 jobs"));
        Assert.That(api.Daemon.Runs, Is.EqualTo(new[] { "b", "a", "b", "c" }));
    }

    [Test]
    public async Task Run_of_an_unknown_job_exits_1_with_a_clear_message()
    {
        await using var api = await ApiHarness.StartAsync();

        var result = await ClientRunner.InProcessAsync("-c", api.ConfigPath, "run", "nope");

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Err.Trim(), Is.EqualTo("backy client: unknown job 'nope'"));
    }

    [Test]
    public async Task Reload_makes_the_daemon_read_its_config_again()
    {
        await using var api = await ApiHarness.StartAsync();
        api.Jobs = ["alpha", "beta", "gamma"];
        api.WriteConfig();

        var result = await ClientRunner.InProcessAsync("-c", api.ConfigPath, "reload");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(result.Out, Does.Contain("3 jobs configured"));
        Assert.That(api.Daemon.Jobs().Select(j => j.Name), Does.Contain("gamma"));
    }

    [Test]
    public async Task Unreachable_daemon_is_one_line_naming_the_url_and_exit_1()
    {
        var url = $"http://127.0.0.1:{ApiHarness.FreePort()}";

        var result = await ClientRunner.InProcessAsync("--url", url, "--token", "x", "status");

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Err.Trim(), Does.StartWith($"backy client: cannot reach the backy daemon at {url}/").And.Not.Contain("\n"));
    }

    [Test]
    public async Task Wrong_token_is_refused_with_exit_1()
    {
        await using var api = await ApiHarness.StartAsync();

        var result = await ClientRunner.InProcessAsync("--url", api.Url.ToString(), "--token", "wrong", "status");

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Err, Does.Contain("refused the token"));
    }

    [Test]
    public async Task Peer_option_takes_url_and_token_from_the_peers_section()
    {
        await using var api = await ApiHarness.StartAsync();
        var clientConfig = Path.Join(api.Root, "client.conf");
        File.WriteAllText(clientConfig, File.ReadAllText(api.ConfigPath)
            .Replace("api:\n", $"peers:\n  other:\n    url: {api.Url}\n    token: {ApiHarness.Token}\napi:\n")
            .Replace("cli-default:\n    token: ", "cli-default:\n    token: not-the-token-"));

        var viaPeer = await ClientRunner.InProcessAsync("-c", clientConfig, "-p", "other", "run", "alpha");
        var viaDefault = await ClientRunner.InProcessAsync("-c", clientConfig, "run", "alpha");
        var unknownPeer = await ClientRunner.InProcessAsync("-c", clientConfig, "-p", "nobody", "run", "alpha");

        Assert.That(viaPeer.ExitCode, Is.EqualTo(0), viaPeer.ToString());
        Assert.That(viaDefault.ExitCode, Is.EqualTo(1), "the cli-default token is wrong in this config");
        Assert.That(unknownPeer.Err.Trim(), Does.StartWith("backy client: unknown peer 'nobody'").And.Contain("other"));
    }

    [Test]
    public async Task Default_target_over_tls_trusts_the_daemons_own_certificate()
    {
        await using var api = await ApiHarness.StartAsync(tls: true);

        var result = await ClientRunner.InProcessAsync("-c", api.ConfigPath, "status");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
    }

    [Test]
    public async Task Explicit_https_url_to_an_untrusted_self_signed_certificate_is_refused()
    {
        await using var api = await ApiHarness.StartAsync(tls: true);

        var result = await ClientRunner.InProcessAsync("--url", api.Url.ToString(), "--token", ApiHarness.Token, "status");

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Err, Does.Contain("cannot reach the backy daemon"));
    }

    private static string Row(string[] lines, string first) =>
        lines.FirstOrDefault(l => l.TrimStart('│', ' ').StartsWith(first + " ", StringComparison.Ordinal)) ?? $"(no row {first})";

    private static string JobsTableTime(DateTimeOffset time, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(time, zone).ToString("yyyy-MM-dd HH:mm:ss");
}

public class ClientErrorTests
{
    private static readonly Uri Url = new("http://127.0.0.1:6023");

    [TestCase(StatusCode.NotFound, "unknown job 'x'", "unknown job 'x'")]
    [TestCase(StatusCode.PermissionDenied, "backup 'a' is an active job on this server", "the backy daemon at http://127.0.0.1:6023/ answered PermissionDenied: backup 'a' is an active job on this server")]
    [TestCase(StatusCode.Unimplemented, "", "the backy daemon at http://127.0.0.1:6023/ answered Unimplemented: ")]
    [TestCase(StatusCode.Unauthenticated, "unknown token", "the backy daemon at http://127.0.0.1:6023/ refused the token: unknown token")]
    public void Daemon_answers_become_one_line_naming_the_daemon_where_the_detail_does_not(StatusCode code, string detail, string expected) =>
        Assert.That(Backy.Cli.Client.ClientSession.Describe(new RpcException(new Status(code, detail)), Url), Is.EqualTo(expected));
}
