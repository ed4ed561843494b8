using Backy.Sources.Ceph;
using Backy.Storage;
using Backy.Storage.Backup;
using Microsoft.Extensions.Logging.Abstractions;

namespace Backy.Tests.Ceph.Cluster;

/// <summary>The ceph-rbd source against the source contract: readiness, snapshot policy, diff or full read.</summary>
[Category("Ceph")]
public class CephRbdSourceTests
{
    private const int MiB = 1 << 20;

    private static CephRbdSource Source(RbdImageSpec image, bool fullAlways = false) =>
        new(image, fullAlways, CephClusterFixture.Options, NullLoggerFactory.Instance);

    private static Task<string[]> Snapshots(RbdImageSpec image, CancellationToken ct) => TestImages.SnapshotsAsync(image, ct);

    private static async Task Backup(CephRbdSource source, string rev, string? parent, bool success, CancellationToken ct, bool expectDiff = false)
    {
        await using var snapshot = await source.OpenSnapshotAsync(new SnapshotRequest(rev, parent, AllowDiff: parent is not null), ct);
        await using (var diff = await snapshot.OpenDiffAsync(ct))
            Assert.That(diff is not null, Is.EqualTo(expectDiff), expectDiff ? "expected a diff" : "expected a full read");
        await snapshot.CompleteAsync(success, ct);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_missing_image_is_not_ready_and_names_the_image(CancellationToken ct)
    {
        var image = TestImages.NewName("missing");
        var e = await Assert.ThrowsAsync<BackyException>(() => Source(image).OpenSnapshotAsync(new SnapshotRequest("r", null, false), ct));
        Assert.That(e!.Message, Is.EqualTo($"cannot read source {image}: pool or image does not exist"));
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task A_connection_made_ahead_serves_the_next_snapshot_and_one_never_taken_is_closed(CancellationToken ct)
    {
        var image = await TestImages.CreateAsync("ahead", 8 * MiB, ct);
        await using var source = Source(image);
        source.StartConnecting();
        while (!source.HasConnectionReady) await Task.Delay(20, ct);
        await Backup(source, "a", null, true, ct);
        Assert.That(source.HasConnectionReady, Is.False, "the snapshot took the connection");
        // The next backup of the same source connects anew.
        await Backup(source, "b", "a", true, ct, expectDiff: true);
        Assert.That(await Snapshots(image, ct), Is.EqualTo(new[] { "backy-a", "backy-b" }));

        // A connection that fails ahead fails the snapshot with the usual reason.
        var missing = TestImages.NewName("ahead-missing");
        await using var absent = Source(missing);
        absent.StartConnecting();
        var e = await Assert.ThrowsAsync<BackyException>(() => absent.OpenSnapshotAsync(new SnapshotRequest("r", null, false), ct));
        Assert.That(e!.Message, Is.EqualTo($"cannot read source {missing}: pool or image does not exist"));

        // Never taken (the backup failed before its snapshot): closed on dispose, failed or not.
        var unused = Source(image);
        unused.StartConnecting();
        while (!unused.HasConnectionReady) await Task.Delay(20, ct);
        await unused.DisposeAsync();
        Assert.That(unused.HasConnectionReady, Is.False);
        var failing = Source(missing);
        failing.StartConnecting();
        await failing.DisposeAsync();
        Assert.That(await Snapshots(image, ct), Is.EqualTo(new[] { "backy-a", "backy-b" }), "no snapshot taken or removed by a source that never opened one");
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task The_newest_backy_snapshot_and_its_parents_remain_and_others_are_untouched(CancellationToken ct)
    {
        var image = await TestImages.CreateAsync("policy", 8 * MiB, ct);
        await TestImages.RbdAsync(ct, "snap", "create", "--no-progress", image.At("operator-snap"));
        await TestImages.RbdAsync(ct, "snap", "create", "--no-progress", image.At("backyish"));
        var source = Source(image);

        await Backup(source, "a", null, true, ct);
        Assert.That(await Snapshots(image, ct), Is.EqualTo(new[] { "backy-a", "backyish", "operator-snap" }));
        await Backup(source, "b", "a", true, ct, expectDiff: true);
        Assert.That(await Snapshots(image, ct), Is.EqualTo(new[] { "backy-a", "backy-b", "backyish", "operator-snap" }));
        await Backup(source, "c", "b", true, ct, expectDiff: true);
        Assert.That(await Snapshots(image, ct), Is.EqualTo(new[] { "backy-b", "backy-c", "backyish", "operator-snap" }));
        // A failed backup drops its own snapshot; the parent's still serves the next diff.
        await Backup(source, "d", "c", false, ct, expectDiff: true);
        Assert.That(await Snapshots(image, ct), Is.EqualTo(new[] { "backy-c", "backyish", "operator-snap" }));
        await Backup(source, "e", "c", true, ct, expectDiff: true);
        Assert.That(await Snapshots(image, ct), Is.EqualTo(new[] { "backy-c", "backy-e", "backyish", "operator-snap" }));
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task The_older_snapshots_go_while_the_new_one_is_taken_and_the_backup_waits_for_them(CancellationToken ct)
    {
        var image = await TestImages.CreateAsync("early", 8 * MiB, ct);
        await TestImages.WriteAsync(image, 8 * MiB, ct, (MiB, TestImages.Random(MiB, 7), 0));
        await TestImages.RbdAsync(ct, "snap", "create", "--no-progress", image.At("operator-snap"));
        var source = Source(image);
        await Backup(source, "a", null, true, ct);
        await Backup(source, "b", "a", true, ct, expectDiff: true);
        // Left behind by a backup that died (its revision is gone): stale like backy-a.
        await TestImages.RbdAsync(ct, "snap", "create", "--no-progress", image.At("backy-crashed"));

        await using (var snapshot = await source.OpenSnapshotAsync(new SnapshotRequest("c", "b", AllowDiff: true), ct))
        {
            // Going in the background while this backup reads its own snapshot (and the parent's, for the diff).
            while ((await Snapshots(image, ct)).Any(s => s is "backy-a" or "backy-crashed")) await Task.Delay(50, ct);
            Assert.That(await Snapshots(image, ct), Is.EqualTo(new[] { "backy-b", "backy-c", "operator-snap" }));
            await using (var diff = await snapshot.OpenDiffAsync(ct)) Assert.That(diff, Is.Not.Null);
            var block = new byte[MiB];
            Assert.That(await snapshot.ReadAtAsync(MiB, block, ct), Is.EqualTo(MiB));
            Assert.That(block, Is.EqualTo(TestImages.Random(MiB, 7)));
            await snapshot.CompleteAsync(true, ct);
        }
        Assert.That(await Snapshots(image, ct), Is.EqualTo(new[] { "backy-b", "backy-c", "operator-snap" }));

        // Completed at once, before the removal could have finished: the backup still ends only after it.
        await TestImages.RbdAsync(ct, "snap", "create", "--no-progress", image.At("backy-crashed2"));
        await using (var snapshot = await source.OpenSnapshotAsync(new SnapshotRequest("d", "c", AllowDiff: true), ct))
            await snapshot.CompleteAsync(true, ct);
        Assert.That(await Snapshots(image, ct), Is.EqualTo(new[] { "backy-c", "backy-d", "operator-snap" }));

        // Without a diff (a distrusted revision) the parent's snapshot is of no use: it goes too.
        await using (var snapshot = await source.OpenSnapshotAsync(new SnapshotRequest("e", "d", AllowDiff: false), ct))
            await snapshot.CompleteAsync(true, ct);
        Assert.That(await Snapshots(image, ct), Is.EqualTo(new[] { "backy-e", "operator-snap" }));
        // full-always: every backy snapshot goes, its own at the end.
        await using (var snapshot = await Source(image, fullAlways: true).OpenSnapshotAsync(new SnapshotRequest("f", "e", AllowDiff: true), ct))
            await snapshot.CompleteAsync(true, ct);
        Assert.That(await Snapshots(image, ct), Is.EqualTo(new[] { "operator-snap" }));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Full_always_never_diffs_and_keeps_no_snapshot(CancellationToken ct)
    {
        var image = await TestImages.CreateAsync("full", 4 * MiB, ct);
        var source = Source(image, fullAlways: true);
        await Backup(source, "a", null, true, ct);
        Assert.That(await Snapshots(image, ct), Is.Empty);
        await Backup(source, "b", "a", true, ct, expectDiff: false);
        Assert.That(await Snapshots(image, ct), Is.Empty);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task No_diff_when_the_parent_snapshot_is_gone_or_diffs_are_not_allowed(CancellationToken ct)
    {
        var image = await TestImages.CreateAsync("gone", 4 * MiB, ct);
        var source = Source(image);
        await Backup(source, "a", null, true, ct);
        await using (var forced = await source.OpenSnapshotAsync(new SnapshotRequest("b", "a", AllowDiff: false), ct))
        {
            Assert.That(await forced.OpenDiffAsync(ct), Is.Null, "forced-write mode");
            await forced.CompleteAsync(true, ct);
        }
        await TestImages.RbdAsync(ct, "snap", "rm", "--no-progress", image.At("backy-b"));
        await Backup(source, "c", "b", true, ct, expectDiff: false);
        Assert.That(await Snapshots(image, ct), Is.EqualTo(new[] { "backy-c" }));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Full_read_and_sampled_reads_see_the_snapshot_not_later_writes(CancellationToken ct)
    {
        const long size = 6 * MiB + 512;
        var image = await TestImages.CreateAsync("read", size, ct);
        var data = TestImages.Random(3 * MiB, 7);
        await TestImages.WriteAsync(image, size, ct, (2 * MiB, data, 0));
        var source = Source(image);
        await using var snapshot = await source.OpenSnapshotAsync(new SnapshotRequest("a", null, false), ct);
        await TestImages.WriteAsync(image, size, ct, (0, TestImages.Random(size > int.MaxValue ? 0 : (int)size, 8), 0));

        Assert.That(snapshot.Size, Is.EqualTo(size));
        Assert.That(snapshot.Verification, Is.EqualTo(VerificationPolicy.Sampled));
        var expected = new byte[size];
        data.CopyTo(expected, 2 * MiB);
        var full = new byte[size];
        await using (var stream = await snapshot.OpenFullReadAsync(ct)) await stream.ReadExactlyAsync(full, ct);
        Assert.That(full, Is.EqualTo(expected));
        var block = new byte[4 * MiB];
        Assert.That(await snapshot.ReadAtAsync(4 * MiB, block, ct), Is.EqualTo(2 * MiB + 512));
        Assert.That(block.AsSpan(0, 2 * MiB + 512).ToArray(), Is.EqualTo(expected[(4 * MiB)..]));
        await snapshot.CompleteAsync(true, ct);
    }
}
