using Backy.Protocol.V1;
using Backy.Storage.Jobs;
using Backy.Storage.Revisions;
using Backy.Tests.Daemon.Support;
using Grpc.Core;
using Revision = Backy.Storage.Revisions.Revision;

namespace Backy.Tests.Api;

/// <summary>
/// The API and <c>backy client</c> against the real daemon (<c>backy-daemon</c> process, stand-in
/// worker) on a loopback port. Slow: every test starts the daemon and several client processes.
/// </summary>
[Category("Slow")]
[CancelAfter(120_000)]
public class DaemonApiTests
{
    internal const string Token = "daemon-test-token";

    [Test]
    public async Task Every_client_action_works_against_the_real_daemon(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        Fresh(bed, "alpha", "beta");
        Directory.CreateDirectory(bed.JobDir("retired"));
        var port = await StartAsync(bed, ct, jobs: ["alpha", "beta"]);

        var jobs = await Client(bed, ct, "jobs");
        var status = await Client(bed, ct, "status");
        var check = await Client(bed, ct, "check");
        var run = await Client(bed, ct, "run", "beta");
        await DaemonTestBed.WaitUntilAsync(() => bed.Worker.Records().Any(r => r is { Kind: "end", Action: "backup", Job: "beta" }), ct);
        var runAll = await Client(bed, ct, "runall");
        await DaemonTestBed.WaitUntilAsync(() => bed.Worker.Records().Any(r => r is { Kind: "end", Action: "backup", Job: "alpha" }), ct);
        WriteConfig(bed, jobs: ["alpha", "beta", "gamma"], port: port);
        var reload = await Client(bed, ct, "reload");
        var afterReload = await Client(bed, ct, "jobs", "^gam");

        Assert.Multiple(() =>
        {
            Assert.That(jobs.ExitCode, Is.EqualTo(0), jobs.ToString());
            Assert.That(jobs.Out, Does.Contain("alpha").And.Contain("beta").And.Contain("Dead").And.Contain("3 jobs shown"));
            Assert.That(status.Out, Does.Match(@"Dead\s+│\s+1 "), status.ToString());
            Assert.That(check.ExitCode, Is.EqualTo(0), check.ToString());
            Assert.That(check.Out, Does.StartWith("OK - 2 jobs within SLA"));
            Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
            Assert.That(runAll.ExitCode, Is.EqualTo(0), runAll.ToString());
            Assert.That(reload.ExitCode, Is.EqualTo(0), reload.ToString());
            Assert.That(reload.Out, Does.Contain("3 jobs configured"));
            Assert.That(afterReload.Out, Does.Contain("gamma").And.Contain("1 job shown"));
        });
    }

    [Test]
    public async Task Missing_and_wrong_tokens_are_refused_without_logging_them(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        Fresh(bed, "alpha");
        var port = await StartAsync(bed, ct, jobs: ["alpha"]);
        var url = $"http://127.0.0.1:{port}";

        var wrong = await ClientRunner.ExecutableAsync(["--url", url, "--token", "not-it", "status"], ct);
        var missing = await ApiHarness.Refusal(async () => await new Jobs.JobsClient(Grpc.Net.Client.GrpcChannel.ForAddress(url))
            .ListJobsAsync(new ListJobsRequest(), cancellationToken: ct));
        await DaemonTestBed.WaitUntilAsync(() => bed.Log.Contains("refused: no bearer token"), ct);

        Assert.That(wrong.ExitCode, Is.EqualTo(1));
        Assert.That(wrong.Err, Does.Contain("refused the token"));
        Assert.That(missing.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
        Assert.That(bed.Log, Does.Contain("refused: unknown token").And.Not.Contain("not-it"));
    }

    [Test]
    public async Task Task_id_of_a_call_is_in_the_daemon_log_with_what_the_call_did(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        Fresh(bed, "alpha");
        var port = await StartAsync(bed, ct, jobs: ["alpha"]);
        using var connection = new Backy.Protocol.ApiConnection(new Uri($"http://127.0.0.1:{port}"), Token, "trace-4711");

        await connection.Jobs.ReloadAsync(new ReloadRequest(), connection.Call(ct));
        await DaemonTestBed.WaitUntilAsync(() => bed.Log.Contains("trace-4711"), ct);

        var lines = bed.Log.Split('\n').Where(l => l.Contains("trace-4711")).ToList();
        Assert.That(lines, Has.Some.Contains("api call /backy.v1.Jobs/Reload from tests"));
        Assert.That(lines, Has.Some.Contains("reloaded"), "the scheduler's own line carries the caller's task id");
    }

    [Test]
    public async Task Client_sends_the_global_task_id_and_logs_it(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        Fresh(bed, "alpha");
        await StartAsync(bed, ct, jobs: ["alpha"]);

        var traced = await ClientRunner.ExecutableAsync(["-c", bed.ConfigPath, "run", "alpha"], ct, taskId: "trace-4712", verbose: true);
        await DaemonTestBed.WaitUntilAsync(() => bed.Log.Contains("(task trace-4712)"), ct);

        Assert.That(traced.ExitCode, Is.EqualTo(0), traced.ToString());
        Assert.That(traced.Err, Does.Contain("trace-4712"), "client side");
    }

    [Test]
    public async Task Client_reaches_the_daemon_over_tls_with_a_self_signed_certificate(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        Fresh(bed, "alpha");
        await StartAsync(bed, ct, jobs: ["alpha"], tls: TestCertificate.Create(bed.Root));

        var result = await Client(bed, ct, "jobs");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(bed.Log, Does.Contain("api listening on https://127.0.0.1:"));
    }

    [Test]
    public async Task Reload_that_changes_the_port_moves_the_api(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        Fresh(bed, "alpha");
        var oldPort = await StartAsync(bed, ct, jobs: ["alpha"]);
        var newPort = WriteConfig(bed, jobs: ["alpha"]);

        // The config file already names the new port: the reload goes to the old one.
        var reload = await ClientRunner.ExecutableAsync(["--url", $"http://127.0.0.1:{oldPort}", "--token", Token, "reload"], ct);
        await WaitForApiAsync(bed, ct);
        var old = await ClientRunner.ExecutableAsync(["--url", $"http://127.0.0.1:{oldPort}", "--token", Token, "status"], ct);

        Assert.That(reload.ExitCode, Is.EqualTo(0), reload.ToString());
        Assert.That(newPort, Is.Not.EqualTo(oldPort));
        Assert.That(old.ExitCode, Is.EqualTo(1));
        Assert.That(old.Err, Does.Contain($"cannot reach the backy daemon at http://127.0.0.1:{oldPort}/"));
    }

    [Test]
    public async Task Check_is_CRITICAL_for_an_overdue_job(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        Fresh(bed, "alpha");
        WriteRevision(bed, "late", DateTimeOffset.UtcNow.AddDays(-3));
        bed.Mark("late", "fail"); // its catch-up run fails, so it stays overdue
        await StartAsync(bed, ct, jobs: ["alpha", "late"]);

        var check = await PollCheckAsync(bed, 2, ct);

        Assert.That(check.Out, Does.StartWith("CRITICAL - 1 job overdue: late"));
        Assert.That(check.Out, Does.Contain("late: SLA overdue by"));
    }

    [Test]
    public async Task Check_is_WARNING_for_a_quarantine_report(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        Fresh(bed, "alpha");
        Directory.CreateDirectory(Path.Join(bed.JobDir("alpha"), "quarantine"));
        File.WriteAllText(Path.Join(bed.JobDir("alpha"), "quarantine", "q1.report"), "uuid: q1\n");
        await StartAsync(bed, ct, jobs: ["alpha"]);

        var check = await Client(bed, ct, "check");

        Assert.That(check.ExitCode, Is.EqualTo(1), check.ToString());
        Assert.That(check.Out, Does.StartWith("WARNING - quarantine reports in 1 job: alpha"));
    }

    [Test]
    public async Task Check_is_UNKNOWN_when_the_daemon_is_down(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        var port = WriteConfig(bed, jobs: ["alpha"]);

        var check = await Client(bed, ct, "check");

        Assert.That(check.ExitCode, Is.EqualTo(3), check.ToString());
        Assert.That(check.Out, Does.StartWith($"UNKNOWN - cannot reach the backy daemon at http://127.0.0.1:{port}/"));
    }

    [Test]
    public async Task Hostile_calls_are_refused_and_logged_and_the_daemon_keeps_serving(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        var aaa = new string('a', 40) + "-vm";
        Fresh(bed, "alpha", aaa);
        Directory.CreateDirectory(bed.JobDir("moved"));
        var wouldBeCreated = Path.Join(bed.Root, "would-be-created");
        File.CreateSymbolicLink(Path.Join(bed.JobDir("moved"), ".purge_pending"), wouldBeCreated);
        Directory.CreateSymbolicLink(bed.JobDir("etc"), "/etc");
        var port = await StartAsync(bed, ct, jobs: ["alpha", aaa]);
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{port}", new Grpc.Net.Client.GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8 },
        });
        var jobs = new Jobs.JobsClient(channel);
        var backups = new Backups.BackupsClient(channel);
        CallOptions Auth(string token = Token) => new CallOptions(new Metadata { { "authorization", $"Bearer {token}" } }).WithCancellationToken(ct);
        // The API answers before the job loops are registered; the backtracking filter below times out only on the
        // long job name, so with no jobs listed yet it would match nothing and succeed (seen once under load).
        while ((await jobs.GetStatusAsync(new GetStatusRequest(), Auth())).Jobs.Count < 2)
            await Task.Delay(100, ct);

        var refusals = new (StatusCode Expected, RpcException Got)[]
        {
            (StatusCode.Unauthenticated, await ApiHarness.Refusal(async () => await jobs.GetStatusAsync(new GetStatusRequest(), Auth(Token + "\u00e9\u2028")))),
            (StatusCode.InvalidArgument, await ApiHarness.Refusal(async () => await backups.PurgeDeadBackupAsync(new PurgeDeadBackupRequest { Backup = "../alpha" }, Auth()))),
            (StatusCode.InvalidArgument, await ApiHarness.Refusal(async () => await backups.TouchDeadBackupAsync(new TouchDeadBackupRequest { Backup = "moved\0" }, Auth()))),
            (StatusCode.PermissionDenied, await ApiHarness.Refusal(async () => await backups.TouchDeadBackupAsync(new TouchDeadBackupRequest { Backup = "etc" }, Auth()))),
            (StatusCode.PermissionDenied, await ApiHarness.Refusal(async () => await backups.PurgeDeadBackupAsync(new PurgeDeadBackupRequest { Backup = "moved" }, Auth()))),
            (StatusCode.InvalidArgument, await ApiHarness.Refusal(async () => await jobs.ListJobsAsync(new ListJobsRequest { Filter = new string('x', 1024 * 1024) }, Auth()))),
            (StatusCode.InvalidArgument, await ApiHarness.Refusal(async () => await jobs.GetStatusAsync(new GetStatusRequest { Filter = "(a+)+$" }, Auth()))),
            (StatusCode.ResourceExhausted, await ApiHarness.Refusal(async () => await jobs.GetStatusAsync(new GetStatusRequest { Filter = new string('x', 5 * 1024 * 1024) }, Auth()))),
        };
        var after = await jobs.GetStatusAsync(new GetStatusRequest(), Auth());
        await DaemonTestBed.WaitUntilAsync(() => bed.Log.Contains("failed: ResourceExhausted"), ct);

        Assert.Multiple(() =>
        {
            foreach (var (expected, got) in refusals)
                Assert.That(got.StatusCode, Is.EqualTo(expected), got.ToString());
            Assert.That(after.Jobs.Select(j => j.Name), Is.EqualTo(new[] { aaa, "alpha" }));
            Assert.That(File.Exists(wouldBeCreated), Is.False);
            Assert.That(bed.Log, Does.Contain("refused: unknown token").And.Not.Contains(Token + "\u00e9"));
            foreach (var failure in new[] { "failed: InvalidArgument: invalid backup name '../alpha'", "failed: InvalidArgument: invalid backup name 'moved\\x00'",
                "failed: PermissionDenied: backup 'etc' is a symbolic link", "failed: PermissionDenied: backup 'moved': .purge_pending is a symbolic link",
                "failed: InvalidArgument: invalid filter: 1048576 characters", "failed: InvalidArgument: filter '(a+)+$' took longer than" })
                Assert.That(bed.Log, Does.Contain(failure));
        });
    }

    /// <summary>Writes the config (api on a free loopback port), starts the daemon and waits until
    /// the API answers; returns the port.</summary>
    internal static async Task<int> StartAsync(DaemonTestBed bed, CancellationToken ct, string[] jobs, (string Cert, string Key)? tls = null, int workerLimit = 1)
    {
        var port = WriteConfig(bed, jobs, tls, workerLimit: workerLimit);
        bed.StartDaemon();
        await WaitForApiAsync(bed, ct);
        return port;
    }

    /// <summary>The test bed's config plus an api section on a free loopback port.</summary>
    private static int WriteConfig(DaemonTestBed bed, string[] jobs, (string Cert, string Key)? tls = null, int? port = null, int workerLimit = 1)
    {
        var chosen = port ?? ApiHarness.FreePort();
        bed.WriteConfig("1d", workerLimit, jobs);
        var tlsLines = tls is { } t ? $"  tls-cert: {t.Cert}\n  tls-key: {t.Key}\n" : "";
        // The bed's own api line would be a duplicate key.
        File.WriteAllText(bed.ConfigPath, File.ReadAllText(bed.ConfigPath).Replace(DaemonTestBed.ApiLine + "\n", "") +
            $"api:\n  addrs: 127.0.0.1\n  port: {chosen}\n  tokens:\n    {Token}: tests\n  cli-default:\n    token: {Token}\n{tlsLines}");
        return chosen;
    }

    /// <summary>A complete revision from just now, so the job is within SLA and not due.</summary>
    private static void Fresh(DaemonTestBed bed, params string[] jobs)
    {
        foreach (var job in jobs)
            WriteRevision(bed, job, DateTimeOffset.UtcNow);
    }

    private static void WriteRevision(DaemonTestBed bed, string job, DateTimeOffset time)
    {
        var dir = new JobDirectory(bed.JobDir(job));
        Directory.CreateDirectory(dir.Path);
        dir.WriteRevision(new Revision
        {
            Id = RevisionId.New(),
            Timestamp = time,
            Tags = new SortedSet<string>(["often"], StringComparer.Ordinal),
            Duration = 1,
        });
    }

    private static Task<ClientRunner.Result> Client(DaemonTestBed bed, CancellationToken ct, params string[] args) =>
        ClientRunner.ExecutableAsync(["-c", bed.ConfigPath, .. args], ct);

    /// <summary>The daemon binds the API during start and after a reload: poll until it answers.</summary>
    private static async Task WaitForApiAsync(DaemonTestBed bed, CancellationToken ct)
    {
        while ((await Client(bed, ct, "status")).ExitCode != 0)
            await Task.Delay(100, ct);
    }

    private static async Task<ClientRunner.Result> PollCheckAsync(DaemonTestBed bed, int exitCode, CancellationToken ct)
    {
        while (true)
        {
            var check = await Client(bed, ct, "check");
            if (check.ExitCode == exitCode)
                return check;
            await Task.Delay(200, ct);
        }
    }
}
