using Backy.Storage.Jobs;
using System.Text;
using Backy.Daemon.Api;
using Backy.Protocol.V1;
using Backy.Storage.Revisions;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Backy.Tests.Api;

/// <summary>
/// Issue 8, hostile input against the real API server on loopback: every refusal has the right
/// status and a short clear message, is logged without the token, and the server still answers
/// an honest call afterwards.
/// </summary>
[CancelAfter(60_000)]
public class HostileInputTests
{
    private static readonly string[] BadTokens =
    [
        "", "wrong", ApiHarness.Token + "x", ApiHarness.Token[..^1], " " + ApiHarness.Token + " x", new string('A', 8 * 1024),
    ];

    [Test]
    public async Task Every_call_without_a_valid_token_is_Unauthenticated_and_logged_without_the_token(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        Directory.CreateDirectory(Path.Join(api.BaseDir, "moved"));

        foreach (var (rpc, call) in EveryRpc(api))
        {
            var missing = await ApiHarness.Refusal(() => call(ApiHarness.Auth(token: null).WithCancellationToken(ct)));
            Assert.That(missing.StatusCode, Is.EqualTo(StatusCode.Unauthenticated), rpc);
            foreach (var token in BadTokens)
            {
                var e = await ApiHarness.Refusal(() => call(ApiHarness.Auth(token).WithCancellationToken(ct)));
                Assert.That(e.StatusCode, Is.EqualTo(StatusCode.Unauthenticated), $"{rpc} with '{token}'");
            }
        }

        Assert.That(api.Log.Lines.Count(l => l.Contains("refused: unknown token")), Is.EqualTo(BadTokens.Length * EveryRpc(api).Count()));
        Assert.That(api.Log.Lines.Count(l => l.Contains("refused: no bearer token")), Is.EqualTo(EveryRpc(api).Count()));
        Assert.That(api.Log.Lines, Has.None.Contains("wrong").And.None.Contains("AAAAAAAA"));
        Assert.That(api.Daemon.Runs, Is.Empty);
        await AssertStillServesAsync(api, ct);
    }

    [Test]
    public async Task Token_with_bytes_outside_ASCII_is_Unauthenticated(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        // The default client refuses to send such header values; a hostile client need not.
        using var channel = GrpcChannel.ForAddress(api.Url, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 },
        });
        var client = new Jobs.JobsClient(channel);

        foreach (var token in new[] { ApiHarness.Token + "\u00e9", "\u00ff\u00fe" + ApiHarness.Token, "s3cret-t\u00f6ken", "\u2028\u202e" })
        {
            var e = await ApiHarness.Refusal(async () => await client.ListJobsAsync(new ListJobsRequest(), ApiHarness.Auth(token).WithCancellationToken(ct)));
            Assert.That(e.StatusCode, Is.EqualTo(StatusCode.Unauthenticated), e.ToString());
        }

        Assert.That(api.Log.Lines.Count(l => l.Contains("refused: unknown token")), Is.EqualTo(4));
        await AssertStillServesAsync(api, ct);
    }

    [Test]
    public async Task Token_larger_than_the_header_limit_is_refused_and_the_server_keeps_serving(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();

        var e = await ApiHarness.Refusal(async () =>
            await api.JobsClient().ListJobsAsync(new ListJobsRequest(), ApiHarness.Auth(new string('A', 100 * 1024)).WithCancellationToken(ct)));

        Assert.That(e.StatusCode, Is.Not.EqualTo(StatusCode.OK), e.ToString());
        TestContext.Out.WriteLine($"100 KiB token: {e.Status}");
        await AssertStillServesAsync(api, ct);
    }

    [TestCase("..")]
    [TestCase("../alpha")]
    [TestCase("/etc/passwd")]
    [TestCase("alpha\0")]
    [TestCase("alpha\nERROR: forged line")]
    [TestCase("")]
    public async Task Run_of_a_hostile_job_name_is_NotFound_with_the_name_escaped(string name, CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();

        var e = await ApiHarness.Refusal(async () => await api.JobsClient().RunJobAsync(new RunJobRequest { Job = name }, ApiHarness.Auth().WithCancellationToken(ct)));

        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.NotFound));
        Assert.That(e.Status.Detail, Does.StartWith("unknown job '").And.Not.Contains("\0").And.Not.Contains("\n"));
        Assert.That(api.Log.Lines, Has.Some.Contains("api call /backy.v1.Jobs/RunJob from monitoring: NotFound: unknown job"));
        Assert.That(api.Log.Lines, Has.None.Contains("\n"));
        Assert.That(api.Daemon.Runs, Is.Empty);
        await AssertStillServesAsync(api, ct);
    }

    [Test]
    public async Task Very_long_names_are_refused_with_a_short_message(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        var longName = new string('x', 1024 * 1024);

        var run = await ApiHarness.Refusal(async () => await api.JobsClient().RunJobAsync(new RunJobRequest { Job = longName }, ApiHarness.Auth().WithCancellationToken(ct)));
        Assert.That(run.StatusCode, Is.EqualTo(StatusCode.NotFound));
        Assert.That(run.Status.Detail, Has.Length.LessThan(200).And.Contains("1048576 characters"));
        foreach (var name in new[] { new string('y', 256), longName })
            foreach (var (rpc, call) in NamedRpcs(api, name))
            {
                var e = await ApiHarness.Refusal(() => call(ApiHarness.Auth().WithCancellationToken(ct)));
                Assert.That(e.StatusCode, Is.EqualTo(StatusCode.InvalidArgument), rpc);
                Assert.That(e.Status.Detail, Has.Length.LessThan(400).And.Contains("longer than 255 characters"), rpc);
            }

        Assert.That(api.Log.Lines.Sum(l => l.Length), Is.LessThan(64 * 1024), "no megabyte log lines");
        await AssertStillServesAsync(api, ct);
    }

    [Test]
    public async Task Symbolic_links_in_base_dir_are_never_followed(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        var outside = Path.Join(api.Root, "outside");
        Directory.CreateDirectory(outside);
        var outsideMtime = Directory.GetLastWriteTimeUtc(outside);
        Directory.CreateSymbolicLink(Path.Join(api.BaseDir, "etc"), "/etc");
        Directory.CreateSymbolicLink(Path.Join(api.BaseDir, "other"), outside);
        Directory.CreateDirectory(Path.Join(api.BaseDir, "moved"));
        Directory.CreateSymbolicLink(Path.Join(api.BaseDir, "moved-alias"), Path.Join(api.BaseDir, "moved"));
        var etcMtime = Directory.GetLastWriteTimeUtc("/etc");

        var listed = await api.BackupsClient().ListDeadBackupsAsync(new ListDeadBackupsRequest(), ApiHarness.Auth().WithCancellationToken(ct));
        foreach (var name in new[] { "etc", "other", "moved-alias" })
            foreach (var (rpc, call) in NamedRpcs(api, name))
            {
                var e = await ApiHarness.Refusal(() => call(ApiHarness.Auth().WithCancellationToken(ct)));
                Assert.That(e.StatusCode, Is.EqualTo(StatusCode.PermissionDenied), $"{rpc} {name}");
                Assert.That(e.Status.Detail, Is.EqualTo($"backup '{name}' is a symbolic link"));
            }

        Assert.That(listed.Names, Is.EqualTo(new[] { "moved" }));
        Assert.That(Directory.EnumerateFileSystemEntries(outside), Is.Empty);
        Assert.That(Directory.GetLastWriteTimeUtc(outside), Is.EqualTo(outsideMtime));
        Assert.That(Directory.GetLastWriteTimeUtc("/etc"), Is.EqualTo(etcMtime));
        Assert.That(File.Exists(Path.Join(api.BaseDir, "moved", ".purge_pending")), Is.False);
        Assert.That(api.Log.Lines.Count(l => l.Contains("failed: PermissionDenied: backup '")), Is.EqualTo(12));
        await AssertStillServesAsync(api, ct);
    }

    [Test]
    public async Task Purge_marker_that_is_a_symbolic_link_is_not_followed(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        var victim = Path.Join(api.Root, "victim");
        File.WriteAllText(victim, "precious");
        var dangling = Path.Join(api.Root, "would-be-created");
        Directory.CreateDirectory(Path.Join(api.BaseDir, "moved"));
        Directory.CreateDirectory(Path.Join(api.BaseDir, "moved2"));
        File.CreateSymbolicLink(Path.Join(api.BaseDir, "moved", ".purge_pending"), victim);
        File.CreateSymbolicLink(Path.Join(api.BaseDir, "moved2", ".purge_pending"), dangling);

        foreach (var name in new[] { "moved", "moved2" })
        {
            var e = await ApiHarness.Refusal(async () =>
                await api.BackupsClient().PurgeDeadBackupAsync(new PurgeDeadBackupRequest { Backup = name }, ApiHarness.Auth().WithCancellationToken(ct)));
            Assert.That(e.StatusCode, Is.EqualTo(StatusCode.PermissionDenied));
            Assert.That(e.Status.Detail, Is.EqualTo($"backup '{name}': .purge_pending is a symbolic link"));
        }

        Assert.That(File.ReadAllText(victim), Is.EqualTo("precious"));
        Assert.That(File.Exists(dangling), Is.False);
        await AssertStillServesAsync(api, ct);
    }

    [Test]
    public async Task Revision_file_that_is_a_symbolic_link_is_neither_listed_nor_edited(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        var alpha = new Backy.Storage.Jobs.JobDirectory(Path.Join(api.BaseDir, "alpha"));
        Directory.CreateDirectory(alpha.Path);
        var rev = JobsServiceTests.Rev(DateTimeOffset.UtcNow, ["daily"]);
        alpha.WriteRevision(rev);
        var moved = new Backy.Storage.Jobs.JobDirectory(Path.Join(api.BaseDir, "moved"));
        Directory.CreateDirectory(moved.Path);
        File.CreateSymbolicLink(moved.RevisionPath(rev.Id), alpha.RevisionPath(rev.Id));
        var request = new SetRevisionTagsRequest { Backup = "moved", Revision = rev.Id, Autoremove = true };
        request.OldTags.Add("daily");

        var listed = await api.BackupsClient().ListRevisionsAsync(new ListRevisionsRequest { Backup = "moved", IncludeIncomplete = true }, ApiHarness.Auth().WithCancellationToken(ct));
        var e = await ApiHarness.Refusal(async () => await api.BackupsClient().SetRevisionTagsAsync(request, ApiHarness.Auth().WithCancellationToken(ct)));

        Assert.That(listed.Revisions, Is.Empty);
        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.NotFound));
        Assert.That(new FileInfo(moved.RevisionPath(rev.Id)).LinkTarget, Is.Not.Null, "the link is left alone");
        Assert.That(alpha.LoadRevision(rev.Id).Tags, Is.EqualTo(new[] { "daily" }));
    }

    [Test]
    public async Task Purge_of_an_already_pending_backup_succeeds(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        Directory.CreateDirectory(Path.Join(api.BaseDir, "moved"));

        for (var i = 0; i < 2; i++)
            await api.BackupsClient().PurgeDeadBackupAsync(new PurgeDeadBackupRequest { Backup = "moved" }, ApiHarness.Auth().WithCancellationToken(ct));

        Assert.That(File.Exists(Path.Join(api.BaseDir, "moved", ".purge_pending")), Is.True);
    }

    [Test]
    public async Task Megabyte_and_invalid_filters_are_InvalidArgument_on_every_listing(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        var huge = new string('a', 1024 * 1024);

        foreach (var (filter, expected) in new[] { (huge, "1048576 characters, at most 1024 allowed"), ("(", "invalid filter '('"), ("a\0(", "invalid filter 'a\\x00('") })
            foreach (var (rpc, call) in FilteredRpcs(api, filter))
            {
                var e = await ApiHarness.Refusal(() => call(ApiHarness.Auth().WithCancellationToken(ct)));
                Assert.That(e.StatusCode, Is.EqualTo(StatusCode.InvalidArgument), rpc);
                Assert.That(e.Status.Detail, Does.Contain(expected).And.Length.LessThan(1000), rpc);
            }

        Assert.That(api.Log.Lines.Count(l => l.Contains("failed: InvalidArgument: invalid filter")), Is.EqualTo(9));
        await AssertStillServesAsync(api, ct);
    }

    [TestCase("(a+)+$")]
    [TestCase("(a|aa)+$")]
    [TestCase("^(a*)*b")]
    public async Task Catastrophically_backtracking_filter_times_out_as_InvalidArgument(string filter, CancellationToken ct)
    {
        var names = Enumerable.Range(0, 5).Select(i => new string('a', 40) + $"-vm{i}").ToArray();
        await using var api = await ApiHarness.StartAsync(jobs: names);
        Directory.CreateDirectory(Path.Join(api.BaseDir, new string('a', 40) + "-old"));

        var calls = FilteredRpcs(api, filter).Select(async c => await ApiHarness.Refusal(() => c.Call(ApiHarness.Auth().WithCancellationToken(ct))));
        var refusals = await Task.WhenAll(calls);

        Assert.That(refusals.Select(e => e.StatusCode), Is.All.EqualTo(StatusCode.InvalidArgument));
        Assert.That(refusals.Select(e => e.Status.Detail), Is.All.Contains($"filter '{filter}' took longer than"));
        Assert.That(api.Log.Lines.Count(l => l.Contains("failed: InvalidArgument: filter")), Is.EqualTo(3));
        await AssertStillServesAsync(api, ct);
    }

    [Test]
    public async Task Honest_calls_are_answered_while_many_backtracking_filters_burn(CancellationToken ct)
    {
        var names = Enumerable.Range(0, 5).Select(i => new string('a', 40) + $"-vm{i}").ToArray();
        await using var api = await ApiHarness.StartAsync(jobs: names);

        var hostile = Enumerable.Range(0, 20).Select(_ => ApiHarness.Refusal(async () =>
            await api.JobsClient().GetStatusAsync(new GetStatusRequest { Filter = "(a+)+$" }, ApiHarness.Auth().WithCancellationToken(ct)))).ToList();
        var honest = Enumerable.Range(0, 20).Select(_ =>
            api.JobsClient().ListJobsAsync(new ListJobsRequest { Filter = "-vm[0-4]$" }, ApiHarness.Auth().WithCancellationToken(ct)).ResponseAsync).ToList();

        Assert.That((await Task.WhenAll(honest)).Select(r => r.Jobs.Count), Is.All.EqualTo(5));
        Assert.That((await Task.WhenAll(hostile)).Select(e => e.StatusCode), Is.All.EqualTo(StatusCode.InvalidArgument));
        await AssertStillServesAsync(api, ct);
    }

    [Test]
    public async Task Messages_above_the_receive_limit_are_ResourceExhausted_and_logged(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        var oversized = new string('a', ApiServer.MaxReceiveMessageSize + 1);
        var tags = new SetRevisionTagsRequest { Backup = "moved", Revision = RevisionId.New() };
        tags.NewTags.AddRange(Enumerable.Repeat(new string('t', 1024), 5 * 1024));

        var status = await ApiHarness.Refusal(async () => await api.JobsClient().GetStatusAsync(new GetStatusRequest { Filter = oversized }, ApiHarness.Auth().WithCancellationToken(ct)));
        var untokened = await ApiHarness.Refusal(async () => await api.JobsClient().ListJobsAsync(new ListJobsRequest { Filter = oversized }, ApiHarness.Auth(null).WithCancellationToken(ct)));
        var setTags = await ApiHarness.Refusal(async () => await api.BackupsClient().SetRevisionTagsAsync(tags, ApiHarness.Auth().WithCancellationToken(ct)));

        Assert.Multiple(() =>
        {
            // Size is checked before the token: grpc-dotnet reads the message before any interceptor runs.
            foreach (var e in new[] { status, untokened, setTags })
                Assert.That(e.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted), e.ToString());
            Assert.That(status.Status.Detail, Does.Contain("exceeds the maximum"));
            Assert.That(api.Log.Lines, Has.Some.Contains("api call /backy.v1.Jobs/GetStatus from 127.0.0.1:").And.Contains("failed: ResourceExhausted"));
            Assert.That(api.Log.Lines, Has.Some.Contains("api call /backy.v1.Backups/SetRevisionTags from 127.0.0.1:").And.Contains("failed: ResourceExhausted"));
        });
        await AssertStillServesAsync(api, ct);
    }

    [Test]
    public async Task Unknown_methods_and_garbage_messages_are_refused_and_logged(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        var invoker = api.Channel().CreateCallInvoker();
        var bytes = Marshallers.Create<byte[]>(b => b, b => b);
        var unknown = new Method<byte[], byte[]>(MethodType.Unary, "backy.v1.Jobs", "DeleteEverything", bytes, bytes);
        var status = new Method<byte[], byte[]>(MethodType.Unary, "backy.v1.Jobs", "GetStatus", bytes, bytes);

        var e1 = await ApiHarness.Refusal(async () => await invoker.AsyncUnaryCall(unknown, null, ApiHarness.Auth().WithCancellationToken(ct), []));
        var e2 = await ApiHarness.Refusal(async () => await invoker.AsyncUnaryCall(status, null, ApiHarness.Auth().WithCancellationToken(ct), [0xff, 0xff, 0xff, 0x0f, 0x0a]));

        Assert.That(e1.StatusCode, Is.EqualTo(StatusCode.Unimplemented));
        Assert.That(e2.StatusCode, Is.Not.EqualTo(StatusCode.OK));
        TestContext.Out.WriteLine($"garbage message: {e2.Status}");
        Assert.That(api.Log.Lines, Has.Some.Contains("api call /backy.v1.Jobs/DeleteEverything from 127.0.0.1:").And.Contains("failed: Unimplemented"));
        Assert.That(api.Log.Lines, Has.Some.Contains("api call /backy.v1.Jobs/GetStatus from 127.0.0.1:").And.Contains($"failed: {e2.StatusCode}"));
        await AssertStillServesAsync(api, ct);
    }

    /// <summary>An honest call right after the hostile ones.</summary>
    internal static async Task AssertStillServesAsync(ApiHarness api, CancellationToken ct)
    {
        var status = await api.JobsClient().GetStatusAsync(new GetStatusRequest(), ApiHarness.Auth().WithCancellationToken(ct));
        Assert.That(status.Jobs.Select(j => j.Name), Is.EqualTo(api.Jobs.Order(StringComparer.Ordinal)));
    }

    /// <summary>Every RPC of backy.v1 with harmless arguments.</summary>
    private static IEnumerable<(string Rpc, Func<CallOptions, Task> Call)> EveryRpc(ApiHarness api) =>
        FilteredRpcs(api, "").Concat(NamedRpcs(api, "moved")).Concat(
        [
            ("RunJob", async o => await api.JobsClient().RunJobAsync(new RunJobRequest { Job = "alpha" }, o)),
            ("Reload", async o => await api.JobsClient().ReloadAsync(new ReloadRequest(), o)),
        ]);

    private static IEnumerable<(string Rpc, Func<CallOptions, Task> Call)> FilteredRpcs(ApiHarness api, string filter) =>
    [
        ("GetStatus", async o => await api.JobsClient().GetStatusAsync(new GetStatusRequest { Filter = filter }, o)),
        ("ListJobs", async o => await api.JobsClient().ListJobsAsync(new ListJobsRequest { Filter = filter }, o)),
        ("ListDeadBackups", async o => await api.BackupsClient().ListDeadBackupsAsync(new ListDeadBackupsRequest { Filter = filter }, o)),
    ];

    /// <summary>The Backups calls that take a dead backup's name.</summary>
    private static IEnumerable<(string Rpc, Func<CallOptions, Task> Call)> NamedRpcs(ApiHarness api, string name) =>
    [
        ("PurgeDeadBackup", async o => await api.BackupsClient().PurgeDeadBackupAsync(new PurgeDeadBackupRequest { Backup = name }, o)),
        ("TouchDeadBackup", async o => await api.BackupsClient().TouchDeadBackupAsync(new TouchDeadBackupRequest { Backup = name }, o)),
        ("ListRevisions", async o => await api.BackupsClient().ListRevisionsAsync(new ListRevisionsRequest { Backup = name }, o)),
        ("SetRevisionTags", async o => await api.BackupsClient().SetRevisionTagsAsync(
            new SetRevisionTagsRequest { Backup = name, Revision = RevisionId.New() }, o)),
    ];
}
