using System.Security.Cryptography;
using Backy.Sources;
using Backy.Storage.Backup;
using Backy.Storage.Chunks;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Storage;

/// <summary>
/// Sparse file sources: SEEK_DATA/SEEK_HOLE tells which 4 MiB blocks are holes; those are mapped as holes
/// without a read, and the restore is bit-identical. Real files on the test machine's file system (ext4 here).
/// </summary>
public class SparseSourceTests
{
    private static readonly long Size = 1024L * 1024 * 1024 + 12345; // 257 blocks, the last one short

    /// <summary>Data at odd offsets: inside a block, across a block boundary, the last byte of a block, the very end.</summary>
    private static readonly (long Offset, int Length)[] Writes =
    [
        (TestImages.Block(3) + 100, 4096),
        (TestImages.Block(10) - 2000, 4096),   // blocks 9 and 10
        (TestImages.Block(100) - 1, 1),        // last byte of block 99
        (Size - 7, 7),                         // the last bytes of the short last block (256)
    ];

    private static readonly long[] DataBlocks = [3, 9, 10, 99, 256];

    private static void WriteSparse(string path)
    {
        using (var f = File.Create(path)) f.SetLength(Size);
        var seed = 11;
        foreach (var (offset, length) in Writes) TestImages.Poke(path, offset, seed++, length);
    }

    [Test]
    public void File_holes_are_every_block_without_data()
    {
        using var t = new TestJob();
        WriteSparse(t.ImagePath);
        using var handle = File.OpenHandle(t.ImagePath);

        var holes = FileHoles.Find(handle, Size);

        Assert.That(holes, Is.Not.Null, "ext4 answers SEEK_DATA");
        var expected = Enumerable.Range(0, 257).Select(b => (long)b).Except(DataBlocks).ToArray();
        var found = Enumerable.Range(0, 257).Select(b => (long)b).Where(holes!.IsHole).ToArray();
        Assert.That(found, Is.EqualTo(expected));
        Assert.That(holes.Count, Is.EqualTo(expected.Length));
    }

    [Test]
    public void A_file_shorter_than_the_snapshot_reports_no_holes_so_the_read_fails_instead()
    {
        using var t = new TestJob();
        using (var f = File.Create(t.ImagePath)) f.SetLength(3L * Blocks.Size);
        using var handle = File.OpenHandle(t.ImagePath);

        Assert.That(FileHoles.Find(handle, 5L * Blocks.Size), Is.Null);
    }

    [Test]
    public void Known_holes_keep_only_whole_blocks_and_count_the_short_last_block_at_the_end()
    {
        var holes = new KnownHoles(10L * Blocks.Size + 5);
        holes.AddHole(1, 2L * Blocks.Size);                     // block 0 partly: only block 1 is whole
        holes.AddHole(5L * Blocks.Size, 5L * Blocks.Size + 5);  // blocks 5..9 and the 5-byte block 10
        holes.AddHole(4L * Blocks.Size, 100);                   // part of block 4: nothing

        var found = Enumerable.Range(0, 11).Where(b => holes.IsHole(b)).ToArray();
        Assert.That(found, Is.EqualTo(new[] { 1, 5, 6, 7, 8, 9, 10 }));
        Assert.That(holes.Count, Is.EqualTo(7));
    }

    [Test, CancelAfter(120_000)]
    public async Task Backup_of_a_sparse_file_reads_only_its_data_blocks_and_restores_bit_identical(CancellationToken ct)
    {
        using var t = new TestJob();
        WriteSparse(t.ImagePath);

        var backup = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily");
        Assert.That(backup.ExitCode, Is.Zero, backup.StdErr);
        Assert.That(backup.StdErr, Does.Contain($"Source reports {257 - DataBlocks.Length} of 257 blocks as holes"));
        Assert.That(backup.StdErr, Does.Contain("Compared 257 of 257 blocks"));

        var map = t.Job.ReadChunkMap(t.Job.CompleteRevisions()[^1]);
        var mapped = Enumerable.Range(0, 257).Where(b => !map.IsHole(b)).Select(b => (long)b).ToArray();
        Assert.That(mapped, Is.EqualTo(DataBlocks));

        var restored = t.PathIn("restored");
        var restore = await WorkerProcess.RunAsync(t.JobPath, ct, "restore", restored);
        Assert.That(restore.ExitCode, Is.Zero, restore.StdErr);
        Assert.That(Sha(restored), Is.EqualTo(Sha(t.ImagePath)));

        // A second backup of the unchanged file: same map, no chunk written.
        var again = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily");
        Assert.That(again.ExitCode, Is.Zero, again.StdErr);
        Assert.That(t.Job.CompleteRevisions()[^1].ExtraStats["chunks_written"], Is.EqualTo("0"));
    }

    [Test, CancelAfter(120_000)]
    public async Task A_block_that_is_allocated_but_zero_is_read_and_still_maps_as_a_hole(CancellationToken ct)
    {
        using var t = new TestJob();
        using (var f = File.Create(t.ImagePath))
        {
            f.SetLength(4L * Blocks.Size);
            f.Position = Blocks.Size;
            f.Write(new byte[Blocks.Size]); // block 1: written zeroes, data to the file system
        }
        TestImages.Poke(t.ImagePath, TestImages.Block(2) + 5);

        var backup = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily");
        Assert.That(backup.ExitCode, Is.Zero, backup.StdErr);
        Assert.That(backup.StdErr, Does.Contain("Source reports 2 of 4 blocks as holes"));
        var map = t.Job.ReadChunkMap(t.Job.CompleteRevisions()[^1]);
        Assert.That(Enumerable.Range(0, 4).Select(b => map.IsHole(b)), Is.EqualTo(new[] { true, true, false, true }));
    }

    [Test, CancelAfter(180_000), Category("Slow")]
    public async Task A_file_system_without_SEEK_DATA_falls_back_to_reading_every_block(CancellationToken ct)
    {
        using var t = new TestJob();
        var backing = t.PathIn("backing.img");
        WriteSparse(backing);
        await using var fuse = await NbdFuseFile.MountOrIgnoreAsync(backing, t.PathIn("mnt"), ct);
        File.WriteAllText(Path.Combine(t.JobPath, "config"),
            $"source:\n  type: file\n  filename: {fuse.Path}\nschedule:\n  daily: {{interval: 1d, keep: 7}}\n");

        var backup = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily");

        Assert.That(backup.ExitCode, Is.Zero, backup.StdErr);
        Assert.That(backup.StdErr, Does.Contain("Source reports 0 of 257 blocks as holes"), "the FUSE file reads as all data");
        var map = t.Job.ReadChunkMap(t.Job.CompleteRevisions()[^1]);
        Assert.That(Enumerable.Range(0, 257).Where(b => !map.IsHole(b)).Select(b => (long)b), Is.EqualTo(DataBlocks),
            "zero blocks found by reading them are holes all the same");
        var restored = t.PathIn("restored");
        var restore = await WorkerProcess.RunAsync(t.JobPath, ct, "restore", restored);
        Assert.That(restore.ExitCode, Is.Zero, restore.StdErr);
        Assert.That(Sha(restored), Is.EqualTo(Sha(backing)));
    }

    internal static byte[] Sha(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return SHA256.HashData(f);
    }
}
