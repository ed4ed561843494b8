using Backy.Sources.Ceph;

namespace Backy.Tests.Ceph.Cluster;

/// <summary>
/// <c>restore rbd:POOL/IMAGE</c> (new and existing images) and <c>restore --changed-only</c> into RBD images and files,
/// through the real backy-worker, checked with <c>rbd export</c> of the source snapshot.
/// </summary>
[Category("Ceph")]
public class CephRestoreTests
{
    private const int MiB = 1 << 20;
    private const int Block = 4 * MiB;

    /// <summary>Data in blocks 0, 1 and 3 and the short last block 5; blocks 2 and 4 are holes.</summary>
    private static async Task<(CephJob Job, Backy.Storage.Revisions.Revision Revision, byte[] Expected)> BackedUpAsync(string prefix, CancellationToken ct)
    {
        const long size = 5 * Block + 12345;
        var image = await TestImages.CreateAsync(prefix, size, ct);
        await TestImages.WriteAsync(image, size, ct,
            (100, TestImages.Random(Block + 7000, 1), 0),
            (3 * Block + 5, TestImages.Random(MiB, 2), 0),
            (5 * Block, TestImages.Random(12345, 3), 0));
        var job = new CephJob(image);
        var revision = await job.BackupAsync(ct);
        return (job, revision, await TestImages.ExportAsync(image, CephRbdSource.SnapshotName(revision.Id), ct));
    }

    [Test]
    [CancelAfter(180_000)]
    public async Task Restore_creates_a_missing_image_without_writing_holes_and_overwrites_an_existing_one(CancellationToken ct)
    {
        var (job, revision, expected) = await BackedUpAsync("rsrc", ct);
        using var _ = job;

        var fresh = TestImages.NewName("rnew");
        var r = await job.RestoreToAsync(revision, "rbd:" + fresh, ct);
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        Assert.That(await TestImages.ExportHeadAsync(fresh, ct), Is.EqualTo(expected));
        // Four data blocks of six were written; the holes were not.
        Assert.That(await TestImages.UsedBytesAsync(fresh, ct), Is.LessThanOrEqualTo(4L * Block));
        // Created as `rbd create` (and `rbd import`) would: the cluster's default features and object size.
        var reference = await TestImages.CreateAsync("rref", Block, ct);
        Assert.That(await TestImages.LayoutAsync(fresh, ct), Is.EqualTo(await TestImages.LayoutAsync(reference, ct)).And.Contain("object-map"));

        // An existing, larger image full of other data: resized to the revision's size, holes zeroed.
        var existing = await TestImages.CreateAsync("rold", 9 * Block, ct);
        await TestImages.WriteAsync(existing, 9 * Block, ct, (0, TestImages.Random(9 * Block, 7), 0));
        r = await job.RestoreToAsync(revision, "rbd:" + existing, ct);
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        Assert.That(await TestImages.ExportHeadAsync(existing, ct), Is.EqualTo(expected));

        // A smaller one grows.
        var small = await TestImages.CreateAsync("rsmall", MiB, ct);
        await TestImages.WriteAsync(small, MiB, ct, (0, TestImages.Random(MiB, 8), 0));
        r = await job.RestoreToAsync(revision, "rbd:" + small, ct);
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        Assert.That(await TestImages.ExportHeadAsync(small, ct), Is.EqualTo(expected));
    }

    [Test]
    [CancelAfter(180_000)]
    public async Task Changed_only_restore_into_an_image_writes_only_the_changed_blocks(CancellationToken ct)
    {
        var (job, revision, expected) = await BackedUpAsync("rchg", ct);
        using var _ = job;
        var disk = TestImages.NewName("rdisk");
        Assert.That((await job.RestoreToAsync(revision, "rbd:" + disk, ct)).ExitCode, Is.Zero);

        // The VM wrote into a data block and into a hole; roll it back.
        var size = expected.LongLength;
        await TestImages.WriteAsync(disk, size, ct, (Block + 3, TestImages.Random(4096, 11), 0), (4 * Block + 99, TestImages.Random(10, 12), 0));
        var r = await job.RestoreToAsync(revision, "rbd:" + disk, ct, "--changed-only");
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        Assert.That(r.StdOut, Does.Contain("2 of 6 blocks differed"));
        Assert.That(await TestImages.ExportHeadAsync(disk, ct), Is.EqualTo(expected));

        r = await job.RestoreToAsync(revision, "rbd:" + disk, ct, "--changed-only");
        Assert.That(r.StdOut, Does.Contain("0 of 6 blocks differed"));
    }

    [Test]
    [CancelAfter(180_000)]
    public async Task Changed_only_restore_into_a_file_rolls_it_back_to_the_snapshot(CancellationToken ct)
    {
        var (job, revision, expected) = await BackedUpAsync("rfile", ct);
        using var _ = job;
        var file = Path.Combine(job.Root, "disk.raw");
        await File.WriteAllBytesAsync(file, expected, ct);
        await using (var f = new FileStream(file, FileMode.Open, FileAccess.Write))
        {
            f.Position = 3 * Block + 17;
            f.Write(TestImages.Random(100, 13));
        }

        var r = await job.RestoreToAsync(revision, file, ct, "--changed-only");
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        Assert.That(r.StdOut, Does.Contain("1 of 6 blocks differed"));
        Assert.That(await File.ReadAllBytesAsync(file, ct), Is.EqualTo(expected));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_malformed_rbd_target_is_refused_with_its_spelling(CancellationToken ct)
    {
        var (job, revision, _) = await BackedUpAsync("rbad", ct);
        using var __ = job;
        var r = await job.RestoreToAsync(revision, "rbd:rbd/img@snap", ct);
        Assert.That(r.ExitCode, Is.EqualTo(1));
        Assert.That(r.StdErr, Does.Contain("restore target 'rbd:rbd/img@snap': expected rbd:POOL/IMAGE (no snapshot)"));
    }
}
