using Backy.Storage.Chunks;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Storage;

/// <summary>Backup and restore through the real <c>backy-worker</c> process, on real files.</summary>
public class BackupRestoreTests
{
    [TestCase(0L, TestName = "Restore_is_bit_identical_for_an_empty_image")]
    [TestCase(1L, TestName = "Restore_is_bit_identical_for_a_one_byte_image")]
    [TestCase(4L * 1024 * 1024 - 1, TestName = "Restore_is_bit_identical_for_a_block_minus_one")]
    [TestCase(9L * 1024 * 1024 + 123, TestName = "Restore_is_bit_identical_for_an_odd_size")]
    [CancelAfter(120_000)]
    public async Task Restore_is_bit_identical(long size, CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, size);
        await AssertBackupRestoresIdentically(t, ct);
    }

    [Test, CancelAfter(120_000)]
    public async Task Restore_is_bit_identical_for_an_all_zero_image_and_stores_no_chunk(CancellationToken ct)
    {
        using var t = new TestJob();
        await using (var f = File.Create(t.ImagePath)) f.SetLength(10L * 1024 * 1024 + 5);
        await AssertBackupRestoresIdentically(t, ct);
        Assert.That(t.ChunkFiles(), Is.Empty);
    }

    [Test, CancelAfter(120_000), Category("Slow")]
    public async Task Restore_of_a_sparse_source_is_bit_identical_and_leaves_holes(CancellationToken ct)
    {
        using var t = new TestJob();
        await using (var f = File.Create(t.ImagePath)) f.SetLength(64L * 1024 * 1024);
        TestImages.Poke(t.ImagePath, TestImages.Block(3) + 100);
        TestImages.Poke(t.ImagePath, TestImages.Block(15) - 10);
        await AssertBackupRestoresIdentically(t, ct);
        var restored = t.PathIn("restored");
        var allocated = new FileInfo(restored).Length;
        Assert.That(allocated, Is.EqualTo(64L * 1024 * 1024));
        // 3 non-zero blocks of 16: a restore that wrote zeros would allocate all 64 MiB.
        Assert.That(AllocatedBytes(restored), Is.LessThanOrEqualTo(3L * Blocks.Size + 65536));
    }

    [Test, CancelAfter(120_000)]
    public async Task Second_backup_of_an_unchanged_image_writes_no_chunk_and_one_changed_block_writes_one(CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 6L * Blocks.Size + 77);
        TestImages.Poke(t.ImagePath, TestImages.Block(2)); // make sure block 2 holds data
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var before = t.ChunkFiles();

        var second = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily");
        Assert.That(second.ExitCode, Is.Zero, second.StdErr);
        Assert.That(t.ChunkFiles(), Is.EqualTo(before), "unchanged image: no chunk file written or touched");
        Assert.That(t.Job.CompleteRevisions()[^1].ExtraStats["chunks_written"], Is.EqualTo("0"));

        TestImages.Poke(t.ImagePath, TestImages.Block(2) + 8192, seed: 99);
        var third = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily");
        Assert.That(third.ExitCode, Is.Zero, third.StdErr);
        var after = t.ChunkFiles();
        Assert.That(after.Keys.Except(before.Keys).Count(), Is.EqualTo(1), "one changed 4 KiB block: exactly one new chunk");
        Assert.That(after.Where(kv => before.TryGetValue(kv.Key, out var w) && w != kv.Value), Is.Empty, "existing chunks untouched");
        Assert.That(t.Job.CompleteRevisions(), Has.Count.EqualTo(3));
    }

    [Test, CancelAfter(120_000), Category("Slow")]
    public async Task Every_revision_restores_its_own_image(CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 5L * Blocks.Size, seed: 3);
        var first = TestJob.Sha(t.ImagePath);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        TestImages.Poke(t.ImagePath, 12345);
        var second = TestJob.Sha(t.ImagePath);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "manual:test")).ExitCode, Is.Zero);

        foreach (var (spec, sha) in new[] { ("1", first), ("0", second), ("last", second), ("daily", first), ("manual:test", second) })
        {
            var target = t.PathIn("r-" + spec.Replace(':', '_'));
            var r = await WorkerProcess.RunAsync(t.JobPath, ct, "restore", "-r", spec, target);
            Assert.That(r.ExitCode, Is.Zero, r.StdErr);
            Assert.That(TestJob.Sha(target), Is.EqualTo(sha), $"revision '{spec}'");
        }
    }

    internal static async Task AssertBackupRestoresIdentically(TestJob t, CancellationToken ct)
    {
        var backup = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily");
        Assert.That(backup.ExitCode, Is.Zero, backup.StdErr);
        var expected = await File.ReadAllBytesAsync(t.ImagePath, ct);

        var restored = t.PathIn("restored");
        var toFile = await WorkerProcess.RunAsync(t.JobPath, ct, "restore", restored);
        Assert.That(toFile.ExitCode, Is.Zero, toFile.StdErr);
        Bytes.AssertSame(expected, await File.ReadAllBytesAsync(restored, ct), "restore to a file");

        var toStdout = await WorkerProcess.RunBinaryAsync(t.JobPath, ct, "restore", "-");
        Assert.That(toStdout.ExitCode, Is.Zero, toStdout.StdErr);
        Bytes.AssertSame(expected, toStdout.StdOut, "restore to stdout");
    }

    /// <summary>Bytes of the file that are data, not holes.</summary>
    private static long AllocatedBytes(string path) => FileAllocation.AllocatedBytes(path);
}
