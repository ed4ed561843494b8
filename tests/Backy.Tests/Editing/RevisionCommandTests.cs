using Backy.Storage.Locks;
using Backy.Storage.Revisions;
using static Backy.Tests.Editing.CommandRunner;

namespace Backy.Tests.Editing;

/// <summary>distrust, forget, tags and expire on real job directories, through the job command
/// line: each command once through the real <c>backy-worker</c> and <c>backy</c> executables, every
/// option in process. The commands use the real clock, so revision times here are relative to the
/// real now.</summary>
[CancelAfter(60_000)]
public class RevisionCommandTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private JobFixture _f = null!;

    [SetUp]
    public void SetUp() => _f = new JobFixture();

    [TearDown]
    public void TearDown() => _f.Dispose();

    /// <summary>Through a child process.</summary>
    private Task<Result> Run(string exe, CancellationToken ct, params string[] args) => ProcessAsync(exe, ["-b", _f.Job.Path, .. args], ct);

    /// <summary>In this process.</summary>
    private Task<Result> Run(params string[] args) => InProcessAsync(["-b", _f.Job.Path, .. args]);

    private static void AssertOk(Result r) => Assert.That(r.ExitCode, Is.Zero, r.ToString());

    private static void AssertFails(Result r, string stderr)
    {
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.Err, Does.Contain(stderr), r.ToString());
    }

    // distrust

    [TestCase(WorkerExe)]
    [TestCase(BackyExe)]
    public async Task Distrust_without_options_distrusts_every_local_revision(string exe, CancellationToken ct)
    {
        var a = _f.Add(Now.AddDays(-2), "daily");
        var b = _f.Add(Now.AddDays(-1), "daily");
        var peer = _f.Add(Now.AddDays(-1), "daily", server: "backup02");
        AssertOk(await Run(exe, ct, "distrust"));
        Assert.That(new[] { a, b, peer }.Select(r => _f.Reload(r).Trust), Is.EqualTo(new[] { Trust.Distrusted, Trust.Distrusted, Trust.Trusted }));
    }

    [Test]
    public async Task Distrust_from_until_takes_whole_days_inclusive(CancellationToken ct)
    {
        var day = new DateTimeOffset(2015, 11, 2, 0, 0, 0, TimeSpan.Zero);
        var revs = new[] { day.AddSeconds(-1), day, day.AddDays(2).AddSeconds(-1), day.AddDays(2) }.Select(t => _f.Add(t, "daily")).ToArray();
        AssertOk(await Run("distrust", "-f", "2015-11-02", "--until", "2015-11-03"));
        Assert.That(revs.Select(r => _f.Reload(r).Trust), Is.EqualTo(new[] { Trust.Trusted, Trust.Distrusted, Trust.Distrusted, Trust.Trusted }));
    }

    [Test]
    public async Task Distrust_by_revision_distrusts_only_that_revision(CancellationToken ct)
    {
        var a = _f.Add(Now.AddDays(-1), "daily");
        var b = _f.Add(Now, "daily");
        AssertOk(await Run("distrust", "-r", "1"));
        Assert.That((_f.Reload(a).Trust, _f.Reload(b).Trust), Is.EqualTo((Trust.Distrusted, Trust.Trusted)));
    }

    [Test]
    public async Task Distrust_with_an_invalid_date_names_it_and_changes_nothing(CancellationToken ct)
    {
        var a = _f.Add(Now, "daily");
        AssertFails(await Run("distrust", "-u", "2015-02-30"), "invalid date '2015-02-30' for --until");
        Assert.That(_f.Reload(a).Trust, Is.EqualTo(Trust.Trusted));
    }

    [Test]
    public async Task Distrust_refuses_a_revision_together_with_a_date_range(CancellationToken ct)
    {
        var a = _f.Add(Now, "daily");
        AssertFails(await Run("distrust", "-r", "0", "-f", "2015-01-01"), "either -r REVISION or a date range");
        Assert.That(_f.Reload(a).Trust, Is.EqualTo(Trust.Trusted));
    }

    // forget

    [TestCase(WorkerExe)]
    [TestCase(BackyExe)]
    public async Task Forget_removes_the_revision(string exe, CancellationToken ct)
    {
        var a = _f.Add(Now.AddDays(-1), "daily");
        var b = _f.Add(Now, "daily");
        AssertOk(await Run(exe, ct, "forget", "-r", b.Id));
        Assert.That((_f.Exists(a), _f.Exists(b)), Is.EqualTo((true, false)));
    }

    [TestCase("nosuchtag")]
    [TestCase("5")]
    public async Task Forget_with_an_invalid_revision_spec_names_the_spec(string spec, CancellationToken ct)
    {
        var a = _f.Add(Now, "daily");
        AssertFails(await Run("forget", "-r", spec), $"'{spec}'");
        Assert.That(_f.Exists(a), Is.True);
    }

    [Test]
    public async Task Forget_requires_a_revision(CancellationToken ct) =>
        AssertFails(await Run("forget"), "--revision");

    // tags

    [TestCase(WorkerExe)]
    [TestCase(BackyExe)]
    public async Task Tags_add(string exe, CancellationToken ct)
    {
        var r = _f.Add(Now, "daily");
        AssertOk(await Run(exe, ct, "tags", "add", "latest", "weekly,manual:x"));
        Assert.That(_f.Reload(r).Tags, Is.EqualTo(new[] { "daily", "manual:x", "weekly" }));
    }

    [Test]
    public async Task Tags_set_and_remove()
    {
        var r = _f.Add(Now, "daily,manual:x,weekly");
        AssertOk(await Run("tags", "remove", r.Id, "daily, manual:x"));
        Assert.That(_f.Reload(r).Tags, Is.EqualTo(new[] { "weekly" }));
        AssertOk(await Run("tags", "set", "weekly", "daily"));
        Assert.That(_f.Reload(r).Tags, Is.EqualTo(new[] { "daily" }));
    }

    [Test]
    public async Task Tags_refuses_unknown_tags_without_force(CancellationToken ct)
    {
        var r = _f.Add(Now, "daily");
        AssertFails(await Run("tags", "add", "0", "weekly,hourly,foo"), "unknown tags 'foo', 'hourly'");
        Assert.That(_f.Reload(r).Tags, Is.EqualTo(new[] { "daily" }));
        AssertOk(await Run("tags", "-f", "add", "0", "hourly"));
        Assert.That(_f.Reload(r).Tags, Is.EqualTo(new[] { "daily", "hourly" }));
    }

    [Test]
    public async Task Tags_with_a_differing_expect_exits_1_and_changes_nothing(CancellationToken ct)
    {
        var r = _f.Add(Now, "daily,weekly");
        AssertFails(await Run("tags", "--expect", "daily", "set", "0", "weekly"), "nothing changed");
        Assert.That(_f.Reload(r).Tags, Is.EqualTo(new[] { "daily", "weekly" }));
        AssertOk(await Run("tags", "--expect", "weekly,daily", "set", "0", "weekly"));
        Assert.That(_f.Reload(r).Tags, Is.EqualTo(new[] { "weekly" }));
    }

    [Test]
    public async Task Tags_autoremove_deletes_a_revision_left_without_tags(CancellationToken ct)
    {
        var keep = _f.Add(Now, "daily");
        var r = _f.Add(Now.AddDays(-1), "weekly");
        AssertOk(await Run("tags", "remove", "1", "weekly"));
        Assert.That(_f.Exists(r), Is.True, "without --autoremove the revision stays until expire");
        AssertOk(await Run("tags", "--autoremove", "set", "daily", ""));
        Assert.That((_f.Exists(keep), _f.Exists(r)), Is.EqualTo((false, true)));
    }

    [Test]
    public async Task Tags_with_an_invalid_revision_spec_or_action_is_a_clear_error(CancellationToken ct)
    {
        _f.Add(Now, "daily");
        AssertFails(await Run("tags", "add", "monthly", "weekly"), "'monthly'");
        AssertFails(await Run("tags", "replace", "0", "weekly"), "replace");
    }

    // expire

    [TestCase(WorkerExe)]
    [TestCase(BackyExe)]
    public async Task Expire_removes_expired_tags_and_revisions(string exe, CancellationToken ct)
    {
        // Schedule: daily keep 2, weekly keep 2.
        var old = _f.Add(Now.AddDays(-10), "daily");
        var mixed = _f.Add(Now.AddDays(-9), "daily,weekly,manual:pin,gone");
        var recent = new[] { _f.Add(Now.AddDays(-1), "daily"), _f.Add(Now, "daily") };
        AssertOk(await Run(exe, ct, "expire"));
        Assert.That(_f.Exists(old), Is.False);
        Assert.That(_f.Reload(mixed).Tags, Is.EqualTo(new[] { "manual:pin", "weekly" }));
        Assert.That(recent.Select(_f.Exists), Has.All.True);
    }

    // status

    [Test]
    public async Task Status_shows_the_server_and_pending_tag_changes_of_peer_revisions()
    {
        _f.Add(Now.AddDays(-1), "weekly,daily");
        var peer = _f.Add(Now, "daily,monthly", server: "backup02");
        AssertOk(await Run("tags", "-f", "set", peer.Id, "daily,weekly"));
        var status = await Run("status");
        AssertOk(status);
        var peerLine = status.Out.Split('\n').Single(l => l.Contains(peer.Id));
        Assert.That(peerLine, Does.Contain("daily,+weekly,-monthly").And.Contain("backup02"));
        Assert.That(status.Out, Does.Contain("daily,weekly "), "local revisions show plain tags sorted by interval");
    }

    // locking

    [Test]
    public async Task Every_command_fails_at_once_while_another_process_holds_the_backup_lock(CancellationToken ct)
    {
        var r = _f.Add(Now, "daily");
        using var held = JobLocks.AcquireBackup(_f.Job.Path, "test");
        foreach (var args in new[] { new[] { "distrust" }, ["forget", "-r", "0"], ["tags", "set", "0", "weekly"], ["expire"] })
            AssertFails(await Run(args), "lock");
        Assert.That((_f.Exists(r), _f.Reload(r).Tags.Single(), _f.Reload(r).Trust), Is.EqualTo((true, "daily", Trust.Trusted)));
    }
}
