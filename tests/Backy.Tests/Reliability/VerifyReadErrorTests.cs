using Backy.Storage.Revisions;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Reliability;

/// <summary>
/// A chunk file the file system will not give (every open of it fails, injected by strace) is no evidence that the
/// data are bad. Found by the fault sweep (seed 2, case 156: <c>verify openat:EROFS:when=3 (job files)</c>): verify
/// removed the revision, "1 revision(s) failed verification and were removed", and a complete revision was lost.
/// </summary>
[Category("Slow")]
public class VerifyReadErrorTests
{
    [TestCase("EIO"), TestCase("EROFS"), TestCase("EACCES"), CancelAfter(180_000)]
    public async Task Verify_keeps_a_revision_whose_chunk_file_cannot_be_opened_and_names_the_file(string errno, CancellationToken ct)
    {
        if (!File.Exists("/usr/bin/strace")) Assert.Ignore("strace is not installed");
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 3L * Backy.Storage.Chunks.Blocks.Size, seed: 7);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var id = t.Job.CompleteRevisions()[0].Id;
        var chunk = t.ChunkFiles().Keys.Order(StringComparer.Ordinal).First();

        // Every open of that one chunk file fails (when=1+, strace -P on it).
        var run = await new FaultInjection("openat", errno, 1, JobFilesOnly: true, Persistent: true)
            .RunAsync(t.JobPath, [chunk], ["verify", "-r", id], ct);

        Assert.That(run.Injected, Is.GreaterThan(0), "the fault fired");
        Assert.That(run.ExitCode, Is.EqualTo(1), run.StdErr);
        var line = run.StdErr.Split('\n').Last(l => l.StartsWith("backy-worker: ", StringComparison.Ordinal));
        Assert.That(line, Does.Contain("could not be verified and were kept").And.Contain(chunk).And.Not.Contain("Exception"));
        Assert.That(File.Exists(t.Job.RevisionPath(id)), "the revision is kept");
        Assert.That(File.Exists(chunk), "the chunk file is not deleted");
        Assert.That(t.Job.LoadRevision(id).Trust, Is.Not.EqualTo(Trust.Verified));

        var again = await WorkerProcess.RunAsync(t.JobPath, ct, "verify", "-r", id);
        Assert.That(again.ExitCode, Is.Zero, again.StdErr);
        Assert.That(t.Job.LoadRevision(id).Trust, Is.EqualTo(Trust.Verified));
        var restored = t.PathIn("restored");
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "restore", "-r", id, restored)).ExitCode, Is.Zero);
        Assert.That(TestJob.Sha(restored), Is.EqualTo(TestJob.Sha(t.ImagePath)));
    }
}
