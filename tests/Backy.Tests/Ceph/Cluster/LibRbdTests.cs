using Backy.Sources.Ceph;

namespace Backy.Tests.Ceph.Cluster;

/// <summary>Backy's librbd layer (<see cref="RbdConnection"/>, <see cref="RbdImage"/>) against the real cluster, checked with the rbd CLI.</summary>
[Category("Ceph")]
public class LibRbdTests
{
    private const int MiB = 1 << 20;

    private static RbdConnection Connect() => RbdConnection.Open(CephClusterFixture.Options, "rbd");

    [Test]
    [CancelAfter(60_000)]
    public async Task Snapshots_are_created_listed_and_removed(CancellationToken ct)
    {
        var spec = await TestImages.CreateAsync("snaps", 4 * MiB, ct);
        using var connection = Connect();
        using var image = connection.OpenImage(spec.Image);
        image.CreateSnapshot("backy-a");
        image.CreateSnapshot("other");
        var e = Assert.Throws<LibRbdException>(() => image.CreateSnapshot("other"));
        Assert.That(e!.Errno, Is.EqualTo(LibRbdException.EEXIST));
        Assert.That(image.ListSnapshots().Select(s => s.Name), Is.EquivalentTo(new[] { "backy-a", "other" }));
        Assert.That(image.ListSnapshots().All(s => s.Size == 4 * MiB));
        Assert.That(await TestImages.SnapshotsAsync(spec, ct), Is.EqualTo(new[] { "backy-a", "other" }));
        image.RemoveSnapshot("backy-a");
        Assert.That(image.ListSnapshots().Select(s => s.Name), Is.EqualTo(new[] { "other" }));
        Assert.That(image.SnapshotExists("other") && !image.SnapshotExists("backy-a"));
        // A snapshot another client takes shows up on this open handle.
        await TestImages.RbdAsync(ct, "snap", "create", "--no-progress", spec.At("by-cli"));
        Assert.That(image.SnapshotExists("by-cli"));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_protected_snapshot_refuses_removal_until_it_is_unprotected(CancellationToken ct)
    {
        var spec = await TestImages.CreateAsync("protect", 4 * MiB, ct);
        using var connection = Connect();
        using var image = connection.OpenImage(spec.Image);
        image.CreateSnapshot("p");
        Assert.That(image.IsSnapshotProtected("p"), Is.False);
        image.ProtectSnapshot("p");
        Assert.That(image.IsSnapshotProtected("p"));
        Assert.That(await TestImages.RbdOutputAsync(ct, "snap", "ls", "--format", "json", spec.ToString()), Does.Contain("\"protected\":\"true\""));
        var busy = Assert.Throws<LibRbdException>(() => image.RemoveSnapshot("p"));
        Assert.That(busy!.Errno, Is.EqualTo(LibRbdException.EBUSY));
        Assert.That(busy.Message, Does.Contain($"removing snapshot p of {spec}"));
        image.UnprotectSnapshot("p");
        Assert.That(image.IsSnapshotProtected("p"), Is.False);
        image.RemoveSnapshot("p");
        Assert.That(await TestImages.SnapshotsAsync(spec, ct), Is.Empty);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Concurrent_reads_see_the_snapshot_not_later_writes(CancellationToken ct)
    {
        const long size = 12 * MiB + 100;
        var spec = await TestImages.CreateAsync("librbd", size, ct);
        var data = TestImages.Random((int)size, 3);
        await TestImages.WriteAsync(spec, size, ct, (0, data, 0));
        await TestImages.RbdAsync(ct, "snap", "create", "--no-progress", spec.At("s"));
        await TestImages.WriteAsync(spec, size, ct, (4 * MiB, new byte[10], 0));   // after the snapshot: must not show

        using var connection = Connect();
        using var image = connection.OpenImage(spec.Image, "s");
        Assert.That(image.Size, Is.EqualTo(size));
        var blocks = Enumerable.Range(0, 4).Select(_ => new byte[4 * MiB]).ToArray();
        var counts = await Task.WhenAll(blocks.Select((b, i) => image.ReadAsync(i * 4L * MiB, b).AsTask()));
        Assert.That(counts, Is.EqualTo(new[] { 4 * MiB, 4 * MiB, 4 * MiB, 100 }));
        var got = blocks.SelectMany(b => b).Take((int)size).ToArray();
        Assert.That(got, Is.EqualTo(data));
        Assert.That(await image.ReadAsync(size, new byte[10]), Is.Zero);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_zero_copy_connection_writes_from_buffers_kept_until_each_write_completed(CancellationToken ct)
    {
        // A restore sends from the engine's block buffers: each stays untouched until its write completed, and is
        // refilled right after. The content must be what the buffer held, with several writes pending at once.
        const int block = 4 * MiB;
        var spec = await TestImages.CreateAsync("copy", 8 * block, ct);
        using var connection = RbdConnection.Open(CephClusterFixture.Options, "rbd", zeroCopyWrites: true);
        Assert.That(connection.ConfigValue("rbd_disable_zero_copy_writes"), Is.EqualTo("false"));
        Assert.That(connection.ConfigValue("rbd_cache"), Is.EqualTo("false"), "the write-around cache would copy every write");
        using (var reader = Connect())
            Assert.That(reader.ConfigValue("rbd_disable_zero_copy_writes"), Is.EqualTo("true"), "any other connection keeps librbd's copy");
        using var image = connection.OpenImage(spec.Image);
        var buffers = Enumerable.Range(0, 4).Select(_ => new byte[block]).ToArray();
        var pending = new Task?[4];
        for (var i = 0; i < 8; i++)
        {
            var slot = i % 4;
            if (pending[slot] is { } earlier)
            {
                await earlier;
                Array.Fill(buffers[slot], (byte)0xEE); // what librbd would send if it still read the buffer
            }
            TestImages.Random(block, 20 + i).CopyTo(buffers[slot], 0);
            pending[slot] = image.WriteAsync((long)i * block, buffers[slot]).AsTask();
        }
        await Task.WhenAll(pending.OfType<Task>());
        for (var slot = 0; slot < 4; slot++) Array.Fill(buffers[slot], (byte)0xEE);
        await image.FlushAsync();
        var expected = Enumerable.Range(0, 8).SelectMany(i => TestImages.Random(block, 20 + i)).ToArray();
        Assert.That(await TestImages.ExportHeadAsync(spec, ct), Is.EqualTo(expected));
    }

    [Test]
    public void Opening_a_missing_image_or_pool_names_it_and_says_not_found()
    {
        var spec = TestImages.NewName("nolib");
        using (var connection = Connect())
        {
            var e = Assert.Throws<LibRbdException>(() => connection.OpenImage(spec.Image, "s"));
            Assert.That(e!.NotFound);
            Assert.That(e.Message, Does.Contain(spec.At("s")).And.Contain("No such file or directory"));
        }
        var p = Assert.Throws<LibRbdException>(() => RbdConnection.Open(CephClusterFixture.Options, "no-such-pool"));
        Assert.That(p!.NotFound);
        Assert.That(p.Message, Does.Contain("pool 'no-such-pool'"));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_diff_patched_onto_the_old_snapshot_gives_the_new_one_exactly_and_per_object(CancellationToken ct)
    {
        const long size = 9 * MiB + 4096;
        var spec = await TestImages.CreateAsync("diff", size, ct);
        await TestImages.WriteAsync(spec, size, ct, (3 * MiB, TestImages.Random(2 * MiB, 1), 0), (8 * MiB, TestImages.Random(MiB, 9), 0));
        await TestImages.RbdAsync(ct, "snap", "create", "--no-progress", spec.At("one"));
        await TestImages.WriteAsync(spec, size, ct, (100, TestImages.Random(5000, 2), 0), (8 * MiB + 10, null, 64 * 1024),
            (size - 4096, TestImages.Random(4096, 3), 0));
        await TestImages.RbdAsync(ct, "snap", "create", "--no-progress", spec.At("two"));
        var one = await TestImages.ExportAsync(spec, "one", ct);
        var two = await TestImages.ExportAsync(spec, "two", ct);

        using var connection = Connect();
        using var image = connection.OpenImage(spec.Image, "two");
        Assert.That(image.HasValidFastDiff, "the test cluster's images have fast-diff (Ceph's default features)");
        foreach (var wholeObject in new[] { false, true })
        {
            var extents = image.DiffFrom("one", wholeObject);
            Assert.That(extents.Zip(extents.Skip(1)).All(p => p.First.Offset + p.First.Length <= p.Second.Offset), "sorted, no overlap");
            await using var diff = new RbdDiff(image, extents);
            var patched = (byte[])one.Clone();
            while (await diff.ReadNextExtentAsync(ct) is { } extent)
            {
                if (extent.IsZero) Array.Clear(patched, (int)extent.Offset, (int)extent.Length);
                else await diff.ReadDataAsync(patched.AsMemory((int)extent.Offset, (int)extent.Length), ct);
            }
            Assert.That(patched, Is.EqualTo(two), $"wholeObject={wholeObject}");
            if (!wholeObject) Assert.That(diff.DataBytes, Is.LessThan(MiB), "exact extents carry only the written bytes");
        }
    }
}
