using Backy.Storage.Jobs;
using Backy.Storage;
using Backy.Storage.Backup;
using Backy.Storage.Chunks;
using Backy.Storage.Restore;
using Backy.Storage.Revisions;
using Backy.Tests.Storage.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Backy.Tests.Storage;

/// <summary>The backup engine in process, with a source implementing the contract over memory.</summary>
public class BackupEngineTests
{
    private static byte[] Image(long size, int seed)
    {
        var path = Path.GetTempFileName();
        try
        {
            TestImages.WriteMixed(path, size, seed);
            return File.ReadAllBytes(path);
        }
        finally { File.Delete(path); }
    }

    private static BackupEngine Engine(TestJob t) => new(t.Job, NullLogger.Instance, TimeProvider.System, new BackupSettings(2));

    private static async Task<byte[]> Restore(TestJob t, Revision rev)
    {
        var output = new MemoryStream();
        await new RestoreEngine(t.Job, NullLogger.Instance).RestoreToStreamAsync(rev, output, CancellationToken.None);
        return output.ToArray();
    }

    [Test]
    public async Task Source_that_changes_before_verification_is_quarantined_and_the_revision_removed()
    {
        using var t = new TestJob();
        var image = Image(3L * Blocks.Size, 1);
        image[Blocks.Size + 10] = 1; // block 1 holds data
        var changed = (byte[])image.Clone();
        changed[Blocks.Size + 10] = 2;
        var source = new MemorySource { Image = image, VerifyImage = changed };

        var e = await Assert.ThrowsAsync<BackyException>(() => Engine(t).BackupAsync(source, ["daily"], CancellationToken.None));

        Assert.That(e!.Message, Does.Contain("failed verification").And.Contain("1 block(s) differ").And.Contain($"offset {Blocks.Size}"));
        Assert.That(t.Job.LoadRevisions(), Is.Empty, "the new revision is removed");
        Assert.That(source.Completed, Is.False);
        var report = t.Job.Quarantine.ReportPaths.Single();
        var text = File.ReadAllText(report);
        var storedHash = ChunkId.Of(image.AsSpan(Blocks.Size, Blocks.Size)).ToString();
        var sourceHash = ChunkId.Of(changed.AsSpan(Blocks.Size, Blocks.Size)).ToString();
        Assert.That(text, Does.Contain($"offset: {Blocks.Size}").And.Contain(storedHash).And.Contain(sourceHash).And.Contain("timestamp:"));
        var chunks = Path.Combine(t.Job.Quarantine.Directory, "chunks");
        Bytes.AssertSame(changed.AsSpan(Blocks.Size, Blocks.Size).ToArray(), File.ReadAllBytes(Path.Combine(chunks, sourceHash)), "source version");
        Bytes.AssertSame(image.AsSpan(Blocks.Size, Blocks.Size).ToArray(), File.ReadAllBytes(Path.Combine(chunks, storedHash)), "stored version");
    }

    [Test]
    public async Task Diff_is_patched_onto_the_parent_and_untouched_blocks_cost_nothing()
    {
        using var t = new TestJob();
        var parentImage = Image(5L * Blocks.Size + 100, 2);
        parentImage[5 * Blocks.Size + 3] = 7; // the short last block holds data
        var first = await Engine(t).BackupAsync(new MemorySource { Image = parentImage }, ["daily"], CancellationToken.None);

        // New image: grown by 1.5 blocks; 100 bytes written across the block 1/2 boundary; block 3 zeroed.
        var image = new byte[7L * Blocks.Size - Blocks.Size / 2];
        parentImage.CopyTo(image, 0);
        var patch = Enumerable.Range(0, 100).Select(i => (byte)(i + 1)).ToArray();
        patch.CopyTo(image, 2 * Blocks.Size - 50);
        Array.Clear(image, 3 * Blocks.Size, Blocks.Size);
        image[6 * Blocks.Size + 7] = 42;
        var source = new MemorySource
        {
            Image = image,
            Diff =
            [
                (new DiffExtent(2L * Blocks.Size - 50, 100, false), patch),
                (new DiffExtent(3L * Blocks.Size, Blocks.Size, true), null),
                (new DiffExtent(6L * Blocks.Size + 7, 1, false), [42]),
            ],
        };

        var second = await Engine(t).BackupAsync(source, ["daily"], CancellationToken.None);

        Assert.That(source.LastRequest!.ParentRevisionId, Is.EqualTo(first.Id));
        Assert.That(source.FullReadUsed, Is.False);
        Bytes.AssertSame(image, await Restore(t, second), "new revision");
        Bytes.AssertSame(parentImage, await Restore(t, first), "parent revision");
        var map = t.Job.ReadChunkMap(second);
        var parentMap = t.Job.ReadChunkMap(first);
        Assert.That(map.Entries[0], Is.EqualTo(parentMap.Entries[0]));
        Assert.That(map.Entries[4], Is.EqualTo(parentMap.Entries[4]));
        Assert.That(map.IsHole(3), Is.True);
        // Blocks 1, 2 (patched), 5 (grew from 100 bytes to a full block) and 6 (new data) are new chunks.
        Assert.That(second.ExtraStats["chunks_written"], Is.EqualTo("4"));
    }

    [Test]
    public async Task Diff_stores_again_a_parent_chunk_that_is_missing_where_no_extent_touches_it()
    {
        using var t = new TestJob();
        var image = Image(3L * Blocks.Size, 7);
        image[5] = 1;
        var first = await Engine(t).BackupAsync(new MemorySource { Image = image }, ["daily"], CancellationToken.None);
        var lost = t.Job.ReadChunkMap(first).Entries[0];
        File.Delete(t.Job.Chunks.PathOf(lost)); // as verify does with a bad chunk, without distrusting anything
        var source = new MemorySource { Image = image, Diff = [] };

        var second = await Engine(t).BackupAsync(source, ["daily"], CancellationToken.None);

        Assert.That(source.FullReadUsed, Is.False, "diff mode");
        Assert.That(t.Job.Chunks.Exists(lost), Is.True, "read from the source and stored again");
        Bytes.AssertSame(image, await Restore(t, second), "new revision");
    }

    [Test]
    public async Task Forced_write_mode_rewrites_an_existing_chunk_file_and_takes_no_diff()
    {
        using var t = new TestJob();
        var image = Image(2L * Blocks.Size, 3);
        image[5] = 9;
        var first = await Engine(t).BackupAsync(new MemorySource { Image = image }, ["daily"], CancellationToken.None);
        var id = t.Job.ReadChunkMap(first).Entries[0];
        var path = t.Job.Chunks.PathOf(id);
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0xFF; // a bad chunk file with the right name
        File.WriteAllBytes(path, bytes);
        first.Trust = Trust.Distrusted;
        t.Job.WriteRevision(first);
        var source = new MemorySource { Image = image, Diff = [] };

        var second = await Engine(t).BackupAsync(source, ["daily"], CancellationToken.None);

        Assert.That(source.LastRequest!.AllowDiff, Is.False);
        Assert.That(source.FullReadUsed, Is.True);
        Assert.That(() => t.Job.Chunks.Read(id, new byte[Blocks.Size], new byte[ChunkStore.ScratchSize]), Throws.Nothing, "chunk file written again");
        Assert.That(long.Parse(second.ExtraStats["chunks_written"]), Is.GreaterThanOrEqualTo(1));
        // Afterwards the newest distrusted revision is verified: it is clean again now.
        Assert.That(t.Job.LoadRevision(first.Id).Trust, Is.EqualTo(Trust.Verified));
    }

    [Test]
    public async Task Without_distrust_an_existing_chunk_file_is_never_rewritten()
    {
        using var t = new TestJob();
        var image = Image(Blocks.Size, 4);
        image[0] = 1;
        var first = await Engine(t).BackupAsync(new MemorySource { Image = image }, ["daily"], CancellationToken.None);
        var path = t.Job.Chunks.PathOf(t.Job.ReadChunkMap(first).Entries[0]);
        var stamp = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, stamp);
        t.Job.RemoveRevision(first.Id); // no parent: the chunk exists and nothing but its existence is looked at

        await Engine(t).BackupAsync(new MemorySource { Image = image }, ["daily"], CancellationToken.None);

        Assert.That(File.GetLastWriteTimeUtc(path), Is.EqualTo(stamp));
    }

    [Test]
    public async Task Integrity_error_while_reading_a_parent_chunk_distrusts_all_revisions()
    {
        using var t = new TestJob();
        var image = Image(2L * Blocks.Size, 5);
        image[3] = 3;
        var first = await Engine(t).BackupAsync(new MemorySource { Image = image }, ["daily"], CancellationToken.None);
        File.Delete(t.Job.Chunks.PathOf(t.Job.ReadChunkMap(first).Entries[0]));
        var source = new MemorySource { Image = image, Diff = [(new DiffExtent(10, 5, true), null)] };

        var e = await Assert.ThrowsAsync<BackyException>(() => Engine(t).BackupAsync(source, ["daily"], CancellationToken.None));

        Assert.That(e!.Message, Does.Contain("missing").And.Contain("distrusted"));
        Assert.That(t.Job.LoadRevisions().Select(r => r.Trust), Is.EqualTo(new[] { Trust.Distrusted }));
    }

    [Test]
    public async Task Backup_with_an_unreadable_parent_chunk_map_reads_everything_and_succeeds()
    {
        using var t = new TestJob();
        var image = Image(2L * Blocks.Size + 5, 6);
        var first = await Engine(t).BackupAsync(new MemorySource { Image = image }, ["daily"], CancellationToken.None);
        File.Delete(t.Job.ChunkMapPath(first.Id));
        var source = new MemorySource { Image = image, Diff = [] };

        var second = await Engine(t).BackupAsync(source, ["daily"], CancellationToken.None);

        Assert.That(source.LastRequest!.AllowDiff, Is.False);
        Assert.That(source.FullReadUsed, Is.True);
        Bytes.AssertSame(image, await Restore(t, second), "revision made without the parent's map");
    }

    [Test]
    public async Task Sampled_verification_checks_at_least_one_block()
    {
        Assert.That(BackupEngine.SelectBlocks(3, VerificationPolicy.Sampled).Count(), Is.EqualTo(1));
        Assert.That(BackupEngine.SelectBlocks(1000, VerificationPolicy.Sampled).Count(), Is.EqualTo(10));
        Assert.That(BackupEngine.SelectBlocks(0, VerificationPolicy.Sampled), Is.Empty);
        await Task.CompletedTask;
    }
}
