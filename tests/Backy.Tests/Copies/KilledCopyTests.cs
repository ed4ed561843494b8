using Backy.Storage.Chunks;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Copies;

[Category("Ceph"), Category("Slow")]
public class KilledCopyTests
{
    /// <summary>
    /// kill -9 of `backy copy` once the bucket holds a seeded number of chunk objects (or once the first revision is
    /// visible): whatever is visible in the copy then is whole, and a rerun completes the copy.
    /// </summary>
    [TestCase(1), TestCase(20), TestCase(-1)]
    [CancelAfter(300_000)]
    public async Task A_copy_killed_at_a_seeded_moment_leaves_nothing_half_visible_and_a_rerun_completes_it(int killAfterChunks, CancellationToken ct)
    {
        using var job = await CopyJob.CreateAsync(ct);
        var rnd = new Random(killAfterChunks + 100);
        await using (var f = File.Create(job.Local.ImagePath))
        {
            var buf = new byte[Blocks.Size];
            for (var i = 0; i < 24; i++) { rnd.NextBytes(buf); f.Write(buf); }
        }
        Assert.That((await job.Worker(ct, "backup", "daily")).ExitCode, Is.Zero);
        for (var i = 0; i < 24; i += 2) TestImages.Poke(job.Local.ImagePath, TestImages.Block(i) + 5, seed: i);
        Assert.That((await job.Worker(ct, "backup", "daily")).ExitCode, Is.Zero);
        var newest = TestJob.Sha(job.Local.ImagePath);

        using var kill = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = WorkerProcess.Command(job.JobPath, "copy").ExecuteAsync(kill.Token);
        var killed = false;
        while (!run.Task.IsCompleted)
        {
            var keys = await job.KeysAsync(ct);
            var reached = killAfterChunks < 0
                ? keys.Any(k => k.EndsWith(".rev", StringComparison.Ordinal))
                : keys.Count(k => k.StartsWith("chunks/", StringComparison.Ordinal)) >= killAfterChunks;
            if (reached)
            {
                kill.Cancel(); // SIGKILL
                killed = true;
                break;
            }
            await Task.Delay(20, ct);
        }
        try { await run; } catch (OperationCanceledException) { }
        Assume.That(killed, Is.True, "the copy finished before the moment came");

        // Whatever is visible now is whole.
        var visible = (await job.KeysAsync(ct)).Count(k => k.EndsWith(".rev", StringComparison.Ordinal));
        Assert.That(visible, Is.LessThan(2), "killed before the end");
        var verify = await CopyJob.FromAsync(ct, null, "verify", "--from", job.Url);
        Assert.That(verify.ExitCode, Is.Zero, verify.StdErr);

        var rerun = await job.Worker(ct, "copy");
        Assert.That(rerun.ExitCode, Is.Zero, rerun.StdErr);
        Assert.That(rerun.StdOut, Does.Contain($"{2 - visible} revision(s)"));
        Assert.That((await job.KeysAsync(ct, "pending/")), Is.Empty, "the rerun finished what was pending");
        var verifyAll = await CopyJob.FromAsync(ct, null, "verify", "--from", job.Url);
        Assert.That(verifyAll.ExitCode, Is.Zero, verifyAll.StdErr);
        Assert.That(verifyAll.StdOut, Does.Contain("2 revision(s)"));
        var target = job.Local.PathIn("restored");
        Assert.That((await CopyJob.FromAsync(ct, null, "restore", "--from", job.Url, target)).ExitCode, Is.Zero);
        Assert.That(TestJob.Sha(target), Is.EqualTo(newest));
    }
}
