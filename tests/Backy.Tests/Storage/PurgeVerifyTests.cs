using Backy.Storage.Jobs;
using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.Revisions;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Storage;

/// <summary>purge and verify through the real worker process.</summary>
public class PurgeVerifyTests
{
    [Test, CancelAfter(120_000), Category("Slow")]
    public async Task Purge_removes_exactly_the_unreferenced_chunks_and_the_rest_still_restores(CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 4L * Blocks.Size, seed: 5);
        TestImages.Poke(t.ImagePath, TestImages.Block(0));
        var shas = new List<byte[]>();
        for (var i = 0; i < 3; i++)
        {
            // The same block changes every time: the middle revision's version of it is its own chunk.
            TestImages.Poke(t.ImagePath, TestImages.Block(1) + 4096, seed: 10 + i);
            shas.Add(TestJob.Sha(t.ImagePath));
            Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        }
        var revisions = t.Job.CompleteRevisions();
        t.Job.RemoveRevision(revisions[1].Id); // as `forget` does
        var kept = new[] { revisions[0], revisions[2] };
        var referenced = kept.SelectMany(r => t.Job.ReadChunkMap(r).ReferencedChunks()).ToHashSet();
        var before = t.Job.Chunks.EnumerateChunks().Select(c => c.Id).ToHashSet();
        Assert.That(before.Except(referenced), Is.Not.Empty, "the forgotten revision had chunks of its own");

        var purge = await WorkerProcess.RunAsync(t.JobPath, ct, "purge");

        Assert.That(purge.ExitCode, Is.Zero, purge.StdErr);
        Assert.That(t.Job.Chunks.EnumerateChunks().Select(c => c.Id).ToHashSet(), Is.EquivalentTo(referenced));
        foreach (var (rev, sha) in new[] { (kept[0], shas[0]), (kept[1], shas[2]) })
        {
            var target = t.PathIn("r-" + rev.Id);
            Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "restore", "-r", rev.Id, target)).ExitCode, Is.Zero);
            Assert.That(TestJob.Sha(target), Is.EqualTo(sha));
        }
    }

    public enum Damage { FlippedByte, Truncated, Missing }

    [TestCase(Damage.FlippedByte)]
    [TestCase(Damage.Truncated)]
    [TestCase(Damage.Missing)]
    [CancelAfter(120_000)]
    public async Task Verify_removes_a_revision_with_a_damaged_chunk_and_deletes_the_chunk_file(Damage damage, CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 2L * Blocks.Size + 999, seed: 8);
        TestImages.Poke(t.ImagePath, 0);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var rev = t.Job.CompleteRevisions()[0];
        var victim = t.Job.ReadChunkMap(rev).Entries[0];
        var path = t.Job.Chunks.PathOf(victim);
        switch (damage)
        {
            case Damage.FlippedByte:
                var bytes = File.ReadAllBytes(path);
                bytes[^10] ^= 0x40;
                File.WriteAllBytes(path, bytes);
                break;
            case Damage.Truncated:
                using (var f = new FileStream(path, FileMode.Open)) f.SetLength(f.Length / 2);
                break;
            case Damage.Missing:
                File.Delete(path);
                break;
        }

        var verify = await WorkerProcess.RunAsync(t.JobPath, ct, "verify", "-r", rev.Id);

        Assert.That(verify.ExitCode, Is.EqualTo(1));
        Assert.That(verify.StdErr, Does.Contain($"backy-worker: 1 revision(s) failed verification and were removed: revision {rev.Id}").And.Contain(victim.ToString()));
        Assert.That(t.Job.LoadRevisions(), Is.Empty);
        Assert.That(File.Exists(path), Is.False, "bad chunk file deleted");
        Assert.That(t.Job.Chunks.EnumerateChunks(), Is.Empty, "verify purges afterwards");
    }

    [Test, CancelAfter(120_000)]
    public async Task Purge_deletes_temp_files_of_dead_writers_and_keeps_those_of_live_ones(CancellationToken ct)
    {
        // The interleaving test found it: a purge deleted the temp file of a `tags add` writing its .rev
        // (tags holds the .backup lock, not the purge lock), and the tag change failed.
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 2L * Blocks.Size, seed: 7);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var rev = t.Job.CompleteRevisions()[0];
        var live = Path.Combine(t.JobPath, $"{rev.Id}.rev.1.{Guid.NewGuid():N}.tmp"); // pid 1 lives as long as the machine
        var dead = Path.Combine(t.JobPath, $"{rev.Id}.rev.{int.MaxValue}.{Guid.NewGuid():N}.tmp"); // above any pid_max
        var unnamed = Path.Combine(t.JobPath, "config.tmp");
        var spaceLive = Path.Combine(t.JobPath, "chunks", $".space.1.{Guid.NewGuid():N}.tmp");
        var spaceDead = Path.Combine(t.JobPath, "chunks", $".space.{int.MaxValue}.{Guid.NewGuid():N}.tmp");
        foreach (var file in new[] { live, dead, unnamed, spaceLive, spaceDead }) await File.WriteAllTextAsync(file, "partial", ct);

        var purge = await WorkerProcess.RunAsync(t.JobPath, ct, "purge");

        Assert.That(purge.ExitCode, Is.Zero, purge.StdErr);
        Assert.That(File.Exists(live), Is.True, "a live writer's temp file is kept");
        Assert.That(File.Exists(dead), Is.False, "a dead writer's temp file is deleted");
        Assert.That(File.Exists(unnamed), Is.False, "a temp file without a writer id is deleted");
        Assert.That(File.Exists(spaceLive), Is.True, "a live writer's space-cache temp in chunks/ is kept");
        Assert.That(File.Exists(spaceDead), Is.False, "a dead writer's space-cache temp in chunks/ is deleted");
    }

    [Test, CancelAfter(120_000)]
    public async Task Verify_marks_a_clean_revision_verified_and_reads_each_shared_chunk_once_per_run(CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 2L * Blocks.Size, seed: 9);
        TestImages.Poke(t.ImagePath, 0);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        TestImages.Poke(t.ImagePath, TestImages.Block(1) + 5, seed: 3);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var (first, second) = (t.Job.CompleteRevisions()[0], t.Job.CompleteRevisions()[1]);

        var verify = await WorkerProcess.RunAsync(t.JobPath, ct, "verify", "-r", second.Id);
        Assert.That(verify.ExitCode, Is.Zero, verify.StdErr);
        Assert.That(verify.StdErr, Does.Contain("2 chunks to read, 0 more read already by this verify"));
        Assert.That(t.Job.LoadRevision(second.Id).Trust, Is.EqualTo(Trust.Verified));
        Assert.That(t.Job.LoadRevision(first.Id).Trust, Is.EqualTo(Trust.Trusted));
    }

    /// <summary>
    /// Found: verify skipped chunks "already proven by a verified revision", trusting an earlier run's check of a
    /// chunk that may have rotted since, and passed a revision that did not restore.
    /// </summary>
    [Test, CancelAfter(120_000)]
    public async Task Verify_reads_a_chunk_a_verified_revision_shares_and_distrusts_every_revision_using_it(CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 2L * Blocks.Size, seed: 9);
        TestImages.Poke(t.ImagePath, 0);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var first = await WorkerProcess.RunAsync(t.JobPath, ct, "verify", "-r", "last");
        Assert.That(first.ExitCode, Is.Zero, first.StdErr);
        Assert.That(t.Job.CompleteRevisions()[0].Trust, Is.EqualTo(Trust.Verified));
        TestImages.Poke(t.ImagePath, TestImages.Block(1) + 5, seed: 3);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var (older, second) = (t.Job.CompleteRevisions()[0], t.Job.CompleteRevisions()[1]);
        // Block 0's chunk, shared with the verified revision, rots after that verification.
        var shared = t.Job.ReadChunkMap(second).Entries[0];
        var bytes = File.ReadAllBytes(t.Job.Chunks.PathOf(shared));
        bytes[^3] ^= 1;
        File.WriteAllBytes(t.Job.Chunks.PathOf(shared), bytes);

        var verify = await WorkerProcess.RunAsync(t.JobPath, ct, "verify", "-r", second.Id);

        Assert.That(verify.ExitCode, Is.EqualTo(1), verify.StdErr);
        Assert.That(verify.StdErr, Does.Contain("2 chunks to read").And.Contain(shared.ToString()));
        Assert.That(t.Job.CompleteRevisions().Select(r => r.Id), Is.EqualTo(new[] { older.Id }), "the revision with the bad chunk is removed");
        Assert.That(t.Job.LoadRevision(older.Id).Trust, Is.EqualTo(Trust.Distrusted), "the verified revision uses the bad chunk too");
    }

    [Test, CancelAfter(120_000)]
    public async Task Verify_without_revision_checks_every_distrusted_revision(CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, Blocks.Size + 1, seed: 2);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var rev = t.Job.CompleteRevisions()[0];
        rev.Trust = Trust.Distrusted;
        t.Job.WriteRevision(rev);

        var verify = await WorkerProcess.RunAsync(t.JobPath, ct, "verify");

        Assert.That(verify.ExitCode, Is.Zero, verify.StdErr);
        Assert.That(t.Job.LoadRevision(rev.Id).Trust, Is.EqualTo(Trust.Verified));
    }
}
