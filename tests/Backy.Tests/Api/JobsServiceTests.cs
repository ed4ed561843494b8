using Backy.Daemon.Scheduling;
using Backy.Daemon.Api;
using Backy.Protocol.V1;
using Backy.Storage.Jobs;
using Backy.Storage.Revisions;
using Revision = Backy.Storage.Revisions.Revision;
using Trust = Backy.Storage.Revisions.Trust;
using Grpc.Core;

namespace Backy.Tests.Api;

[CancelAfter(30_000)]
public class JobsServiceTests
{
    [Test]
    public async Task Status_reports_daemon_state_and_what_the_job_directory_holds(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        var last = new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);
        api.Daemon.SetState(StubDaemon.Snapshot("alpha", "default", "finished", false, TimeSpan.FromHours(3),
            last, ["daily", "weekly"], TimeSpan.FromSeconds(50), last.AddDays(1), ["daily"]));
        var alpha = new JobDirectory(Path.Join(api.BaseDir, "alpha"));
        Directory.CreateDirectory(Path.Join(alpha.Path, "quarantine"));
        File.WriteAllText(Path.Join(alpha.Path, "quarantine", "r1.report"), "uuid: r1\n");
        alpha.WriteRevision(Rev(last, ["daily", "manual:keep"]));
        alpha.WriteRevision(Rev(last.AddDays(-1), ["daily"], server: "peer1", origTags: ["daily", "weekly"]));

        var reply = await api.JobsClient().GetStatusAsync(new GetStatusRequest(), ApiHarness.Auth().WithCancellationToken(ct));

        Assert.That(reply.Jobs.Select(j => j.Name), Is.EqualTo(new[] { "alpha", "beta" }));
        var status = reply.Jobs[0];
        Assert.Multiple(() =>
        {
            Assert.That(status.SlaOk, Is.False);
            Assert.That(status.SlaOverdue.ToTimeSpan(), Is.EqualTo(TimeSpan.FromHours(3)));
            Assert.That(status.Status, Is.EqualTo("finished"));
            Assert.That(status.LastTime.ToDateTimeOffset(), Is.EqualTo(last));
            Assert.That(status.LastTags, Is.EqualTo(new[] { "daily", "weekly" }));
            Assert.That(status.LastDuration.ToTimeSpan(), Is.EqualTo(TimeSpan.FromSeconds(50)));
            Assert.That(status.NextTags, Is.EqualTo(new[] { "daily" }));
            Assert.That(status.ManualTags, Is.EqualTo(new[] { "manual:keep" }));
            Assert.That(status.QuarantineReports, Is.EqualTo(1));
            Assert.That(status.UnsyncedRevisions, Is.EqualTo(1));
            Assert.That(status.LocalRevisions, Is.EqualTo(1));
            Assert.That(reply.Jobs[1].LastTime, Is.Null, "beta has no backup yet");
        });
    }

    [Test]
    public async Task A_call_in_the_first_moment_after_start_waits_for_every_job_to_be_registered(CancellationToken ct)
    {
        // The API listens before the job loops register (so that an unusable port is fatal before any worker
        // starts): a call that arrives in between must not answer with fewer jobs than configured.
        await using var api = await ApiHarness.StartAsync();
        api.Daemon.Starting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = api.JobsClient().GetStatusAsync(new GetStatusRequest(), ApiHarness.Auth().WithCancellationToken(ct)).ResponseAsync;
        while (!api.Log.Lines.Any(l => l.Contains("GetStatus", StringComparison.Ordinal)))
            await Task.Delay(20, ct);
        Assert.That(call.IsCompleted, Is.False, "the call reached the server and waits for the start");
        api.Daemon.Starting.SetResult();

        Assert.That((await call).Jobs.Select(j => j.Name), Is.EqualTo(new[] { "alpha", "beta" }));
    }

    [Test]
    public async Task Status_filter_is_a_regex_searched_in_job_names(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync(jobs: ["web01", "web02", "db01"]);

        var reply = await api.JobsClient().GetStatusAsync(new GetStatusRequest { Filter = "^web0[2-9]" }, ApiHarness.Auth().WithCancellationToken(ct));

        Assert.That(reply.Jobs.Select(j => j.Name), Is.EqualTo(new[] { "web02" }));
    }

    [Test]
    public async Task Invalid_filter_is_InvalidArgument_with_the_reason(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();

        var e = await ApiHarness.Refusal(async () =>
            await api.JobsClient().GetStatusAsync(new GetStatusRequest { Filter = "web(" }, ApiHarness.Auth().WithCancellationToken(ct)));

        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(e.Status.Detail, Does.StartWith("invalid filter 'web(':").And.Contains("Not enough )"));
    }

    [Test]
    public async Task Catastrophically_backtracking_filter_is_cut_off_by_the_match_timeout(CancellationToken ct)
    {
        var hostileName = new string('a', 40) + "!";
        await using var api = await ApiHarness.StartAsync(jobs: [hostileName]);

        var e = await ApiHarness.Refusal(async () =>
            await api.JobsClient().ListJobsAsync(new ListJobsRequest { Filter = @"^(\w+\s?)*$" }, ApiHarness.Auth().WithCancellationToken(ct)));

        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(e.Status.Detail, Does.Contain("took longer than"));
    }

    [Test]
    public async Task Run_of_a_configured_job_reaches_the_daemon(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();

        await api.JobsClient().RunJobAsync(new RunJobRequest { Job = "beta" }, ApiHarness.Auth().WithCancellationToken(ct));

        Assert.That(api.Daemon.Runs, Is.EqualTo(new[] { "beta" }));
    }

    [Test]
    public async Task Run_of_an_unknown_job_is_NotFound(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();

        var e = await ApiHarness.Refusal(async () =>
            await api.JobsClient().RunJobAsync(new RunJobRequest { Job = "gamma" }, ApiHarness.Auth().WithCancellationToken(ct)));

        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.NotFound));
        Assert.That(e.Status.Detail, Is.EqualTo("unknown job 'gamma'"));
        Assert.That(api.Daemon.Runs, Is.Empty);
    }

    [Test]
    public async Task Reload_of_an_invalid_config_is_FailedPrecondition_naming_the_error(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        File.AppendAllText(api.ConfigPath, "bogus-section: 1\n");

        var e = await ApiHarness.Refusal(async () =>
            await api.JobsClient().ReloadAsync(new ReloadRequest(), ApiHarness.Auth().WithCancellationToken(ct)));

        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
        Assert.That(e.Status.Detail, Does.Contain("bogus-section"));
    }

    internal static Revision Rev(DateTimeOffset time, string[] tags, string server = "", string[]? origTags = null) => new()
    {
        Id = RevisionId.New(),
        Timestamp = time,
        Tags = new SortedSet<string>(tags, StringComparer.Ordinal),
        OrigTags = new SortedSet<string>(origTags ?? tags, StringComparer.Ordinal),
        Server = server,
        BytesWritten = 4096,
        Duration = 12.5,
    };
}
