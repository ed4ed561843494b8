using Backy.Storage.Jobs;
using Backy.Storage.Revisions;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Cli;

/// <summary>
/// A revision spec means the same in every command (issue 14, item 8), run through the real
/// <c>backy-worker</c> on a job whose newest revision is incomplete (the state a killed backup leaves:
/// Storage/KilledBackupTests). Before: <c>tags add 0</c> and <c>distrust -r 0</c> took the incomplete
/// revision while <c>restore -r 0</c> took the complete one, and <c>restore -r ID</c> said "not a
/// revision id, number or tag".
/// </summary>
[CancelAfter(120_000)]
public class RevisionSpecAcrossCommandsTests
{
    private TestJob _t = null!;
    private string _complete = "";
    private string _incomplete = "";
    private byte[] _completeSha = [];

    [SetUp]
    public async Task TwoBackupsAndACrashedOne()
    {
        _t = new TestJob();
        TestImages.WriteMixed(_t.ImagePath, 3L * 4 * 1024 * 1024 + 4096, seed: 8);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Assert.That((await WorkerProcess.RunAsync(_t.JobPath, cts.Token, "backup", "daily")).ExitCode, Is.Zero);
        _complete = _t.Job.CompleteRevisions().Single().Id;
        _completeSha = TestJob.Sha(_t.ImagePath);
        // What a backup killed part-way leaves: a newer .rev without a duration (stats incomplete).
        var done = _t.Job.LoadRevision(_complete);
        var crashed = new Revision
        {
            Id = RevisionId.New(), Timestamp = done.Timestamp.AddMinutes(5), Parent = done.Id,
            Tags = new SortedSet<string>(done.Tags, StringComparer.Ordinal), Duration = null,
        };
        _t.Job.WriteRevision(crashed);
        _incomplete = crashed.Id;
    }

    [TearDown]
    public void Remove() => _t.Dispose();

    private Task<WorkerProcess.Result> Worker(CancellationToken ct, params string[] args) => WorkerProcess.RunAsync(_t.JobPath, ct, args);

    [Test]
    public async Task Numbers_and_last_name_the_newest_complete_revision_in_tags_distrust_and_restore(CancellationToken ct)
    {
        var tag = await Worker(ct, "tags", "add", "0", "manual:keep");
        Assert.That(tag.ExitCode, Is.Zero, tag.StdErr);
        Assert.That(_t.Job.LoadRevision(_complete).Tags, Does.Contain("manual:keep"));
        Assert.That(_t.Job.LoadRevision(_incomplete).Tags, Does.Not.Contain("manual:keep"));

        var restore = await Worker(ct, "restore", "-r", "manual:keep", _t.PathIn("by-tag"));
        Assert.That(restore.ExitCode, Is.Zero, restore.StdErr);
        Assert.That(TestJob.Sha(_t.PathIn("by-tag")), Is.EqualTo(_completeSha));

        var distrust = await Worker(ct, "distrust", "-r", "last");
        Assert.That(distrust.ExitCode, Is.Zero, distrust.StdErr);
        Assert.That(_t.Job.LoadRevision(_complete).Trust, Is.EqualTo(Trust.Distrusted), "last = the one restore -r last reads");
        Assert.That(_t.Job.LoadRevision(_incomplete).Trust, Is.Not.EqualTo(Trust.Distrusted));
    }

    [TestCase("restore", "-r", "{id}", "{target}")]
    [TestCase("tags", "add", "{id}", "manual:x")]
    [TestCase("distrust", "-r", "{id}")]
    [TestCase("verify", "-r", "{id}")]
    public async Task An_incomplete_revision_by_id_is_refused_saying_why(params string[] template)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var args = template.Select(a => a.Replace("{id}", _incomplete).Replace("{target}", _t.PathIn("out"))).ToArray();

        var result = await Worker(cts.Token, args);

        Assert.That(result.ExitCode, Is.EqualTo(1), result.StdErr);
        Assert.That(result.StdErr.TrimEnd().Split('\n')[^1],
            Is.EqualTo($"backy-worker: revision {_incomplete} is incomplete (a backup did not finish): only forget can name it; the next backup deletes it"));
        Assert.That(File.Exists(_t.PathIn("out")), Is.False);
    }

    [Test]
    public async Task Forget_removes_an_incomplete_revision_by_its_id(CancellationToken ct)
    {
        var forget = await Worker(ct, "forget", "-r", _incomplete);

        Assert.That(forget.ExitCode, Is.Zero, forget.StdErr);
        Assert.That(_t.Job.LoadRevisions().Select(r => r.Id), Is.EqualTo(new[] { _complete }));
    }
}
