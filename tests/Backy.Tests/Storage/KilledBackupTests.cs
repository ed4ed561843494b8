using Backy.Storage.Chunks;
using Backy.Tests.Storage.Support;
using CliWrap;

namespace Backy.Tests.Storage;

public class KilledBackupTests
{
    [Test, CancelAfter(180_000), Category("Slow")]
    public async Task Killed_backup_leaves_an_incomplete_revision_that_the_next_backup_deletes(CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 3L * Blocks.Size, seed: 6);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var good = t.Job.CompleteRevisions().Single();
        var goodSha = TestJob.Sha(t.ImagePath);

        // A large random image keeps the second backup busy long enough to kill it part-way.
        var rnd = new Random(11);
        await using (var f = File.Create(t.ImagePath))
        {
            var buf = new byte[Blocks.Size];
            for (var i = 0; i < 96; i++) { rnd.NextBytes(buf); f.Write(buf); }
        }
        using var kill = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = WorkerProcess.Command(t.JobPath, "backup", "daily").ExecuteAsync(kill.Token);
        while (t.Job.LoadRevisions().Count < 2 && !run.Task.IsCompleted)
            await Task.Delay(5, ct);
        kill.Cancel(); // CliWrap's forceful cancellation: SIGKILL, no chance to clean up
        await Assert.ThrowsAsync<OperationCanceledException>(async () => await run);

        var all = t.Job.LoadRevisions();
        Assert.That(all, Has.Count.EqualTo(2));
        var incomplete = all.Single(r => r.Id != good.Id);
        Assert.That(incomplete.IsComplete, Is.False);
        Assert.That(t.Job.CompleteRevisions().Select(r => r.Id), Is.EqualTo(new[] { good.Id }), "not listed as valid");
        var status = await WorkerProcess.RunAsync(t.JobPath, ct, "status");
        Assert.That(status.StdOut, Does.Contain(incomplete.Id).And.Contain("0 seconds"));

        var restore = await WorkerProcess.RunAsync(t.JobPath, ct, "restore", t.PathIn("old"));
        Assert.That(restore.ExitCode, Is.Zero, restore.StdErr);
        Assert.That(TestJob.Sha(t.PathIn("old")), Is.EqualTo(goodSha), "latest valid revision restores unchanged");

        var next = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily");
        Assert.That(next.ExitCode, Is.Zero, next.StdErr);
        Assert.That(t.Job.LoadRevisions().Select(r => r.Id), Does.Not.Contain(incomplete.Id));
        Assert.That(File.Exists(t.Job.ChunkMapPath(incomplete.Id)), Is.False);
        Assert.That(t.Job.CompleteRevisions(), Has.Count.EqualTo(2));
    }
}
