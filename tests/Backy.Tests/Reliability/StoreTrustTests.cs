using Backy.Storage.Chunks;
using Backy.Storage.Revisions;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Reliability;

/// <summary>
/// Issue 13, items 1, 2 and 6, through the real worker: a backup never reports a revision complete that does not
/// restore bit-identically, and a chunk found bad distrusts every revision that uses it.
/// </summary>
public class StoreTrustTests
{
    /// <summary>Revision A of a 3-block image, then B with block 2 rewritten: blocks 0 and 1 share A's chunks.</summary>
    sealed class SharedChunks : IDisposable
    {
        public readonly TestJob T = new();
        public string A = "", B = "";
        public byte[] ShaA = [], ShaB = [];

        public async Task CreateAsync(CancellationToken ct, bool withB = true)
        {
            TestImages.WriteMixed(T.ImagePath, 3L * Blocks.Size, seed: 31);
            TestImages.Poke(T.ImagePath, TestImages.Block(0), seed: 1);
            TestImages.Poke(T.ImagePath, TestImages.Block(1), seed: 2);
            ShaA = TestJob.Sha(T.ImagePath);
            await BackupAsync(ct);
            A = T.Job.CompleteRevisions().Single().Id;
            if (!withB) return;
            TestImages.Poke(T.ImagePath, TestImages.Block(2), seed: 3);
            ShaB = TestJob.Sha(T.ImagePath);
            await BackupAsync(ct);
            B = T.Job.CompleteRevisions().Single(r => r.Id != A).Id;
        }

        public async Task<WorkerProcess.Result> BackupAsync(CancellationToken ct, int expectedExit = 0)
        {
            var r = await WorkerProcess.RunAsync(T.JobPath, ct, "backup", "daily");
            Assert.That(r.ExitCode, Is.EqualTo(expectedExit), r.StdErr);
            return r;
        }

        /// <summary>The chunk file that holds block 0 in revision A (shared with B).</summary>
        public string SharedChunkPath() => T.Job.Chunks.PathOf(T.Job.ReadChunkMap(T.Job.LoadRevision(A)).Entries[0]);

        public void FlipFourBytes(string chunkPath)
        {
            var bytes = File.ReadAllBytes(chunkPath);
            for (var i = 0; i < 4; i++) bytes[bytes.Length / 2 + i] ^= 0x5a;
            File.WriteAllBytes(chunkPath, bytes);
        }

        public async Task AssertRestoresAsync(string id, byte[] sha, CancellationToken ct)
        {
            var target = T.PathIn("restored-" + id);
            var r = await WorkerProcess.RunAsync(T.JobPath, ct, "restore", "-r", id, target);
            Assert.That(r.ExitCode, Is.Zero, r.StdErr);
            Assert.That(TestJob.Sha(target), Is.EqualTo(sha), $"revision {id} restores bit-identically");
            File.Delete(target);
        }

        public Trust TrustOf(string id) => T.Job.LoadRevision(id).Trust;

        public string Newest() => T.Job.CompleteRevisions()[^1].Id;

        public void Dispose() => T.Dispose();
    }

    /// <summary>
    /// Found: verify deleted the bad chunk and removed B but left A trusted; the next backup took the
    /// parent-hash shortcut over the missing chunk ("0 new chunks", exit 0, trusted) and did not restore.
    /// </summary>
    [Test, CancelAfter(180_000)]
    public async Task A_chunk_verify_finds_bad_distrusts_every_revision_using_it_and_the_next_backup_restores(CancellationToken ct)
    {
        using var j = new SharedChunks();
        await j.CreateAsync(ct);
        var shared = j.SharedChunkPath();
        j.FlipFourBytes(shared);

        var verify = await WorkerProcess.RunAsync(j.T.JobPath, ct, "verify", "-r", "last");

        Assert.That(verify.ExitCode, Is.EqualTo(1), verify.StdErr);
        Assert.That(verify.StdErr, Does.Contain($"revision {j.B}").And.Contain($"distrusted {j.A}"));
        Assert.That(File.Exists(shared), Is.False, "bad chunk file deleted");
        Assert.That(j.T.Job.CompleteRevisions().Select(r => r.Id), Is.EqualTo(new[] { j.A }), "B removed");
        Assert.That(j.TrustOf(j.A), Is.EqualTo(Trust.Distrusted), "A uses the bad chunk");

        var backup = await j.BackupAsync(ct);

        Assert.That(backup.StdErr, Does.Contain("forced-write mode"));
        Assert.That(File.Exists(shared), Is.True, "the next backup wrote the chunk again");
        var c = j.Newest();
        Assert.That(j.TrustOf(c), Is.EqualTo(Trust.Trusted));
        await j.AssertRestoresAsync(c, j.ShaB, ct);
        await j.AssertRestoresAsync(j.A, j.ShaA, ct);
        Assert.That(j.TrustOf(j.A), Is.EqualTo(Trust.Verified), "the backup verified the distrusted revision afterwards");
    }

    /// <summary>A chunk file the parent uses went missing without anyone distrusting anything: the next backup stores it again.</summary>
    [Test, CancelAfter(180_000)]
    public async Task A_missing_parent_chunk_is_written_again_by_the_next_backup(CancellationToken ct)
    {
        using var j = new SharedChunks();
        await j.CreateAsync(ct, withB: false);
        File.Delete(j.SharedChunkPath());

        var backup = await j.BackupAsync(ct);

        Assert.That(backup.StdErr, Does.Not.Contain("0 new chunks"));
        Assert.That(File.Exists(j.SharedChunkPath()), Is.True);
        await j.AssertRestoresAsync(j.Newest(), j.ShaA, ct);
        await j.AssertRestoresAsync(j.A, j.ShaA, ct);
    }

    /// <summary>
    /// Found: a flipped byte in a chunk the parent uses was not noticed by the next backup (the verification
    /// compared the source with the chunk map's hashes only): 0 new chunks, trusted, unrestorable. Now the
    /// verification reads the chunk back: the backup fails and distrusts, the one after writes every chunk again.
    /// </summary>
    [Test, CancelAfter(180_000)]
    public async Task A_rotten_parent_chunk_fails_the_next_backup_and_the_one_after_repairs_it(CancellationToken ct)
    {
        using var j = new SharedChunks();
        await j.CreateAsync(ct, withB: false);
        var shared = j.SharedChunkPath();
        j.FlipFourBytes(shared);

        var failed = await j.BackupAsync(ct, expectedExit: 1);

        Assert.That(failed.StdErr, Does.Contain(shared).And.Contain("corrupt").And.Contain("all revisions are now distrusted"));
        Assert.That(j.T.Job.CompleteRevisions().Select(r => r.Id), Is.EqualTo(new[] { j.A }), "no revision reported complete");
        Assert.That(j.TrustOf(j.A), Is.EqualTo(Trust.Distrusted));

        await j.BackupAsync(ct);

        await j.AssertRestoresAsync(j.Newest(), j.ShaA, ct);
        await j.AssertRestoresAsync(j.A, j.ShaA, ct);
    }

    /// <summary>
    /// The cheap half of the read-back: a no-change backup reads every chunk file whole, but decodes only those
    /// whose bytes changed since a check decoded them (their checksum, recorded in an xattr, differs).
    /// </summary>
    [Test, CancelAfter(180_000)]
    public async Task A_no_change_backup_reads_every_chunk_file_but_decodes_only_a_changed_one(CancellationToken ct)
    {
        using var j = new SharedChunks();
        await j.CreateAsync(ct, withB: false);
        var shared = j.SharedChunkPath();
        using (var h = File.OpenHandle(shared))
            if (!Backy.Storage.IO.ExtendedAttributes.TryGetUInt64(h, ChunkStore.CheckedAttribute, out _))
                Assert.Ignore("this file system keeps no user xattrs: every chunk is decoded on every backup");

        var quiet = await j.BackupAsync(ct);
        Assert.That(quiet.StdErr, Does.Contain("(0 chunks read back and decoded, 3 read and found unchanged since an earlier decode)"));

        // A flip the same length as the original: the file's checksum no longer matches, so it is decoded and caught.
        j.FlipFourBytes(shared);
        var caught = await j.BackupAsync(ct, expectedExit: 1);
        Assert.That(caught.StdErr, Does.Contain(shared).And.Contain("corrupt"));
    }

    /// <summary>
    /// One read path (item 6): restore, verify and purge read a revision through the same image, so they agree
    /// about a format they cannot read. Found: purge ignored such a revision and swept every chunk only it used.
    /// </summary>
    [Test, CancelAfter(180_000)]
    public async Task Restore_verify_and_purge_agree_that_a_revision_in_an_unknown_format_is_kept_untouched(CancellationToken ct)
    {
        using var j = new SharedChunks();
        await j.CreateAsync(ct);
        var rev = j.T.Job.RevisionPath(j.B);
        var original = File.ReadAllText(rev);
        new FileInfo(rev).IsReadOnly = false;
        File.WriteAllText(rev, original.Replace(Revision.OurBackendType, "chunked-xxh129", StringComparison.Ordinal));
        var chunks = j.T.Job.Chunks.EnumerateChunks().Select(c => c.Id).ToHashSet();

        var restore = await WorkerProcess.RunAsync(j.T.JobPath, ct, "restore", "-r", j.B, j.T.PathIn("out"));
        var verify = await WorkerProcess.RunAsync(j.T.JobPath, ct, "verify", "-r", j.B);
        var purge = await WorkerProcess.RunAsync(j.T.JobPath, ct, "purge");

        Assert.That(restore.ExitCode, Is.EqualTo(1), restore.StdErr);
        Assert.That(restore.StdErr, Does.Contain("chunked-xxh129"));
        Assert.That(verify.ExitCode, Is.EqualTo(1), verify.StdErr);
        Assert.That(verify.StdErr, Does.Contain("chunked-xxh129"));
        Assert.That(purge.ExitCode, Is.Zero, purge.StdErr);
        Assert.That(File.Exists(rev) && File.Exists(j.T.Job.ChunkMapPath(j.B)), Is.True, ".rev and chunk map kept");
        Assert.That(j.T.Job.Chunks.EnumerateChunks().Select(c => c.Id).ToHashSet(), Is.EquivalentTo(chunks), "no chunk swept");
        File.WriteAllText(rev, original);
        await j.AssertRestoresAsync(j.B, j.ShaB, ct);
        await j.AssertRestoresAsync(j.A, j.ShaA, ct);
    }
}
