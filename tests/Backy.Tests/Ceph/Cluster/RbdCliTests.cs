using Backy.Sources.Ceph;
using Backy.Storage;
using Backy.Storage.Backup;
using Microsoft.Extensions.Logging.Abstractions;

namespace Backy.Tests.Ceph.Cluster;

[Category("Ceph")]
public class RbdCliTests
{
    private const int MiB = 1 << 20;

    private static RbdCli Rbd(CephClientOptions? options = null) => new(options ?? CephClusterFixture.Options, NullLogger<RbdCli>.Instance);

    [Test]
    [CancelAfter(60_000)]
    public async Task Info_of_a_missing_image_is_null_and_of_an_existing_one_is_its_size(CancellationToken ct)
    {
        var image = await TestImages.CreateAsync("info", 10 * MiB + 512, ct);
        Assert.That(await Rbd().InfoAsync(TestImages.NewName("missing"), null, ct), Is.Null);
        Assert.That((await Rbd().InfoAsync(image, null, ct))!.Size, Is.EqualTo(10 * MiB + 512));
        Assert.That(await Rbd().InfoAsync(image, "no-such-snap", ct), Is.Null);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Snapshots_are_created_listed_and_removed(CancellationToken ct)
    {
        var image = await TestImages.CreateAsync("snaps", 4 * MiB, ct);
        await Rbd().CreateSnapshotAsync(image, "backy-a", ct);
        await Rbd().CreateSnapshotAsync(image, "other", ct);
        Assert.That((await Rbd().ListSnapshotsAsync(image, ct)).Select(s => s.Name), Is.EquivalentTo(new[] { "backy-a", "other" }));
        await Rbd().RemoveSnapshotAsync(image, "backy-a", ct);
        Assert.That((await Rbd().ListSnapshotsAsync(image, ct)).Select(s => s.Name), Is.EqualTo(new[] { "other" }));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Export_streams_the_snapshot_and_export_diff_parses(CancellationToken ct)
    {
        const long size = 9 * MiB + 4096;
        var image = await TestImages.CreateAsync("export", size, ct);
        var data = TestImages.Random(2 * MiB, 1);
        await TestImages.WriteAsync(image, size, ct, (3 * MiB, data, 0));
        await Rbd().CreateSnapshotAsync(image, "one", ct);
        var more = TestImages.Random(4096, 2);
        await TestImages.WriteAsync(image, size, ct, (size - 4096, more, 0));
        await Rbd().CreateSnapshotAsync(image, "two", ct);

        using var copy = new MemoryStream();
        await using (var export = Rbd().Export(image, "one", size)) await export.CopyToAsync(copy, ct);
        var expected = new byte[size];
        data.CopyTo(expected, 3 * MiB);
        Assert.That(copy.ToArray(), Is.EqualTo(expected));

        // rbd reports changes at object granularity (fast-diff), so the diff may carry unchanged bytes too:
        // patched onto snapshot one it must give exactly snapshot two.
        await using var diff = new RbdDiffReader(Rbd().ExportDiff(image, "one", "two"), "test");
        var patched = (byte[])expected.Clone();
        var extents = 0;
        while (await diff.ReadNextExtentAsync(ct) is { } extent)
        {
            extents++;
            if (extent.IsZero) Array.Clear(patched, (int)extent.Offset, (int)extent.Length);
            else await diff.ReadDataAsync(patched.AsMemory((int)extent.Offset, (int)extent.Length), ct);
        }
        Assert.That(patched, Is.EqualTo(await TestImages.ExportAsync(image, "two", ct)));
        Assert.That(patched[(int)(size - 4096)..], Is.EqualTo(more));
        Assert.That(extents, Is.GreaterThan(0));
        Assert.That((diff.FromSnapshot, diff.ToSnapshot), Is.EqualTo(("one", "two")));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Export_of_a_missing_snapshot_fails_with_rbds_reason(CancellationToken ct)
    {
        var image = await TestImages.CreateAsync("nosnap", 4 * MiB, ct);
        await using var export = Rbd().Export(image, "nope", 4 * MiB);
        var e = await Assert.ThrowsAsync<ExternalCommandException>(async () => await export.ReadExactlyAsync(new byte[4096], ct));
        Assert.That(e!.ExitCode, Is.Not.Zero);
        Assert.That(e.Stderr, Does.Contain("No such file or directory"));
        Assert.That(e.Message, Does.StartWith("'rbd export --no-progress " + image.At("nope")));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Snapshot_of_a_missing_image_fails_with_a_typed_error(CancellationToken ct)
    {
        var e = await Assert.ThrowsAsync<ExternalCommandException>(() => Rbd().CreateSnapshotAsync(TestImages.NewName("gone"), "x", ct));
        Assert.That(e!.Message, Does.Contain("No such file or directory"));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_missing_rbd_program_is_a_clear_error(CancellationToken ct)
    {
        var rbd = Rbd(CephClusterFixture.Options with { RbdExecutable = "/nonexistent/rbd" });
        var e = await Assert.ThrowsAsync<BackyException>(() => rbd.ListSnapshotsAsync(TestImages.NewName("x"), ct));
        Assert.That(e!.Message, Does.Contain("/nonexistent/rbd").And.Contain("BACKY_RBD"));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Librbd_reads_ranges_of_a_snapshot(CancellationToken ct)
    {
        const long size = 8 * MiB + 100;
        var image = await TestImages.CreateAsync("librbd", size, ct);
        var data = TestImages.Random(MiB, 3);
        await TestImages.WriteAsync(image, size, ct, (4 * MiB - 1000, data, 0));
        await Rbd().CreateSnapshotAsync(image, "s", ct);
        await TestImages.WriteAsync(image, size, ct, (4 * MiB, new byte[10], 0));   // after the snapshot: must not show

        using var reader = RbdSnapshotReader.Open(CephClusterFixture.Options, image, "s");
        Assert.That(reader.Size, Is.EqualTo(size));
        var got = new byte[MiB];
        Assert.That(reader.ReadAt(4 * MiB - 1000, got), Is.EqualTo(MiB));
        Assert.That(got, Is.EqualTo(data));
        Assert.That(reader.ReadAt(size - 50, got), Is.EqualTo(50));
    }

    [Test]
    public void Librbd_open_of_a_missing_image_names_it()
    {
        var image = TestImages.NewName("nolib");
        var e = Assert.Throws<BackyException>(() => RbdSnapshotReader.Open(CephClusterFixture.Options, image, "s"));
        Assert.That(e!.Message, Does.Contain(image.At("s")).And.Contain("No such file or directory"));
    }
}
