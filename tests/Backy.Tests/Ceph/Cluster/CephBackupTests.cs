using Backy.Sources.Ceph;
using Microsoft.Extensions.Logging.Abstractions;

namespace Backy.Tests.Ceph.Cluster;

/// <summary>Backups of RBD images through the real backy-worker, checked against what rbd itself exports.</summary>
[Category("Ceph")]
public class CephBackupTests
{
    private const int MiB = 1 << 20;
    private const int Block = 4 * MiB;

    private static Task<string[]> Snapshots(RbdImageSpec image, CancellationToken ct) => TestImages.SnapshotsAsync(image, ct);

    /// <summary>An image of odd size with data in blocks 0, 1 (crossing their boundary), 3 and the short last block; block 2 stays a hole.</summary>
    private static async Task<(RbdImageSpec Image, long Size)> SeededImageAsync(string prefix, CancellationToken ct)
    {
        const long size = 5 * Block + 12345;
        var image = await TestImages.CreateAsync(prefix, size, ct);
        await TestImages.WriteAsync(image, size, ct,
            (100, TestImages.Random(Block + 7000, 1), 0),
            (3 * Block + 5, TestImages.Random(MiB, 2), 0),
            (5 * Block, TestImages.Random(12345, 3), 0));
        return (image, size);
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Full_backup_restores_to_exactly_the_snapshot(CancellationToken ct)
    {
        var (image, _) = await SeededImageAsync("full", ct);
        using var job = new CephJob(image);

        var revision = await job.BackupAsync(ct);

        var expected = await TestImages.ExportAsync(image, CephRbdSource.SnapshotName(revision.Id), ct);
        Assert.That(await job.RestoreAsync(revision, ct), Is.EqualTo(expected));
        Assert.That(await Snapshots(image, ct), Is.EqualTo(new[] { CephRbdSource.SnapshotName(revision.Id) }));
        // Blocks 0, 1, 3 and 5 hold data; blocks 2 and 4 are holes and cost no chunk.
        Assert.That(job.ChunkFiles(), Has.Count.EqualTo(4));
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Incremental_backup_reads_only_the_diff_and_stores_only_touched_blocks(CancellationToken ct)
    {
        var (image, size) = await SeededImageAsync("incr", ct);
        await TestImages.RbdAsync(ct, "snap", "create", "--no-progress", image.At("operator"));
        using var job = new CephJob(image);
        var first = await job.BackupAsync(ct);
        var chunksBefore = job.ChunkFiles();

        // One write across the block 0/1 boundary, one range zeroed (discarded) inside block 3.
        await TestImages.WriteAsync(image, size, ct,
            (Block - 3000, TestImages.Random(6000, 4), 0),
            (3 * Block + 1000, null, 64 * 1024));
        var second = await job.BackupAsync(ct);

        Assert.That(second.Parent, Is.EqualTo(first.Id));
        Assert.That(job.Log, Does.Contain($"as a diff from {CephRbdSource.SnapshotName(first.Id)}"));
        var expected = await TestImages.ExportAsync(image, CephRbdSource.SnapshotName(second.Id), ct);
        Assert.That(await job.RestoreAsync(second, ct), Is.EqualTo(expected));
        Assert.That(await job.RestoreAsync(first, ct), Is.Not.EqualTo(expected), "the first revision keeps the old content");
        var newChunks = job.ChunkFiles().Except(chunksBefore).ToArray();
        Assert.That(newChunks, Has.Length.EqualTo(3), "blocks 0, 1 and 3 changed; nothing else may produce a chunk");
        // The parent's snapshot stays until the next backup, which removes it while it takes its own.
        Assert.That(await Snapshots(image, ct), Is.EqualTo(new[] { CephRbdSource.SnapshotName(first.Id), CephRbdSource.SnapshotName(second.Id), "operator" }.Order(StringComparer.Ordinal)));
    }

    [Test]
    [CancelAfter(180_000)]
    public async Task A_diff_backup_through_librbd_equals_a_full_backup_of_the_same_state(CancellationToken ct)
    {
        var (image, size) = await SeededImageAsync("same", ct);
        using var incremental = new CephJob(image);
        await incremental.BackupAsync(ct);
        await TestImages.WriteAsync(image, size, ct,
            (2 * Block + 4096, TestImages.Random(8192, 21), 0),      // into the hole block 2
            (100, null, 5000),                                       // zero a range of block 0
            (size - 100, TestImages.Random(100, 22), 0));            // the short last block
        var diffed = await incremental.BackupAsync(ct);
        Assert.That(incremental.Log, Does.Contain($"as a diff from"));

        using var full = new CephJob(image, extra: "  full-always: true\n");
        var whole = await full.BackupAsync(ct);

        Assert.That(incremental.Job.ReadChunkMap(diffed).Entries, Is.EqualTo(full.Job.ReadChunkMap(whole).Entries));
        Assert.That(await incremental.RestoreAsync(diffed, ct), Is.EqualTo(await full.RestoreAsync(whole, ct)));
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Without_the_parent_snapshot_a_full_read_still_stores_only_changed_blocks(CancellationToken ct)
    {
        var (image, size) = await SeededImageAsync("fallback", ct);
        using var job = new CephJob(image);
        var first = await job.BackupAsync(ct);
        var chunksBefore = job.ChunkFiles();
        await TestImages.RbdAsync(ct, "snap", "rm", "--no-progress", image.At(CephRbdSource.SnapshotName(first.Id)));
        await TestImages.WriteAsync(image, size, ct, (3 * Block + 77, TestImages.Random(100, 5), 0));

        var second = await job.BackupAsync(ct);

        Assert.That(job.Log, Does.Contain($"parent snapshot {image.At(CephRbdSource.SnapshotName(first.Id))} is gone"));
        Assert.That(await job.RestoreAsync(second, ct), Is.EqualTo(await TestImages.ExportAsync(image, CephRbdSource.SnapshotName(second.Id), ct)));
        Assert.That(job.ChunkFiles().Except(chunksBefore).ToArray(), Has.Length.EqualTo(1));
    }

    [Test]
    [CancelAfter(180_000)]
    public async Task An_image_grown_and_then_shrunk_between_backups_restores_correctly(CancellationToken ct)
    {
        var (image, size) = await SeededImageAsync("resize", ct);
        using var job = new CephJob(image);
        await job.BackupAsync(ct);

        var grown = size + 2 * Block + 999;
        await TestImages.RbdAsync(ct, "resize", "--no-progress", "--size", $"{grown}B", image.ToString());
        await TestImages.WriteAsync(image, grown, ct, (grown - 5000, TestImages.Random(5000, 6), 0));
        var second = await job.BackupAsync(ct);
        Assert.That(await job.RestoreAsync(second, ct), Is.EqualTo(await TestImages.ExportAsync(image, CephRbdSource.SnapshotName(second.Id), ct)));

        var shrunk = 2 * Block + 4096;
        await TestImages.RbdAsync(ct, "resize", "--no-progress", "--allow-shrink", "--size", $"{shrunk}B", image.ToString());
        var third = await job.BackupAsync(ct);
        var restored = await job.RestoreAsync(third, ct);
        Assert.That(restored, Has.Length.EqualTo(shrunk));
        Assert.That(restored, Is.EqualTo(await TestImages.ExportAsync(image, CephRbdSource.SnapshotName(third.Id), ct)));
    }

    [Test]
    [CancelAfter(240_000)]
    public async Task A_protected_old_snapshot_is_removed_but_kept_while_it_has_clones(CancellationToken ct)
    {
        var (image, _) = await SeededImageAsync("prot", ct);
        using var job = new CephJob(image);
        string[] Snaps(params Backy.Storage.Revisions.Revision[] revisions) => [.. revisions.Select(r => CephRbdSource.SnapshotName(r.Id)).Order(StringComparer.Ordinal)];
        var first = await job.BackupAsync(ct);
        var second = await job.BackupAsync(ct);
        Assert.That(await Snapshots(image, ct), Is.EqualTo(Snaps(first, second)));
        // An operator protects the old snapshot without cloning it: the next backup lifts the protection and removes it.
        await TestImages.RbdAsync(ct, "snap", "protect", image.At(CephRbdSource.SnapshotName(first.Id)));
        var third = await job.BackupAsync(ct);
        Assert.That(await Snapshots(image, ct), Is.EqualTo(Snaps(second, third)));

        // Protected and cloned (format 1 clone: needs the protection): the snapshot stays, the backup succeeds.
        var secondSnap = CephRbdSource.SnapshotName(second.Id);
        var clone = TestImages.NewName("protclone");
        await TestImages.RbdAsync(ct, "snap", "protect", image.At(secondSnap));
        await TestImages.RbdAsync(ct, "clone", "--rbd-default-clone-format", "1", image.At(secondSnap), clone.ToString());
        var fourth = await job.BackupAsync(ct);
        Assert.That(await Snapshots(image, ct), Is.EqualTo(Snaps(second, third, fourth)));
        Assert.That(job.Log, Does.Contain($"kept snapshot {image.At(secondSnap)}: it is protected and has clones"));
        Assert.That(await TestImages.ExportHeadAsync(clone, ct), Is.EqualTo(await TestImages.ExportAsync(image, secondSnap, ct)), "the clone still reads");

        // Clone gone: the next backup removes the snapshot (and the third's, keeping its parent's and its own).
        await TestImages.RbdAsync(ct, "rm", "--no-progress", clone.ToString());
        var fifth = await job.BackupAsync(ct);
        Assert.That(await Snapshots(image, ct), Is.EqualTo(Snaps(fourth, fifth)));
        Assert.That(await job.RestoreAsync(fifth, ct), Is.EqualTo(await TestImages.ExportAsync(image, CephRbdSource.SnapshotName(fifth.Id), ct)));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_missing_image_fails_clearly_and_leaves_no_revision(CancellationToken ct)
    {
        using var job = new CephJob(TestImages.NewName("absent"));
        var (exit, stderr) = await job.TryBackupAsync(ct);
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stderr.Trim(), Does.EndWith($"cannot read source {job.Image}: pool or image does not exist"));
        Assert.That(job.Job.LoadRevisions(), Is.Empty);
    }
}
