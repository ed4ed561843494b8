using System.Buffers.Binary;
using Backy.Storage.Chunks;
using Backy.Storage.Revisions;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Nbd;

/// <summary>
/// Serving chunks stored in parts (encoding 3): small reads decode only the parts they touch, each checked by its
/// own checksum; a job that switched from whole chunks serves both kinds.
/// </summary>
[Parallelizable(ParallelScope.None)]
public class NbdPartsTests
{
    /// <summary>Blocks 0-5 hold data (text and random parts), with an odd tail.</summary>
    private static async Task<string> BackupAsync(TestJob t, CancellationToken ct, string compression, int seed)
    {
        var config = File.ReadAllText(t.Job.ConfigPath);
        var at = config.IndexOf("compression:", StringComparison.Ordinal);
        File.WriteAllText(t.Job.ConfigPath, (at < 0 ? config : config[..at]) + $"compression: {compression}\n");
        if (!File.Exists(t.ImagePath)) TestImages.WriteMixed(t.ImagePath, 6L * Blocks.Size + 4096 * 3, seed);
        foreach (var b in new[] { 0, 1, 2, 4, 5 }) TestImages.Poke(t.ImagePath, TestImages.Block(b) + 10 + seed, seed + b, length: 200_000);
        var r = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily");
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        return t.Job.CompleteRevisions()[^1].Id;
    }

    private static Task<byte[]> RestoreAsync(TestJob t, string revision, CancellationToken ct) =>
        WorkerProcess.RestoreBytesAsync(t.JobPath, revision, ct);

    /// <summary>
    /// A revision of whole chunks and one of parts, over one server with a 4 MiB cache (one block's budget: parts and
    /// whole blocks evict each other): 4 KiB and 64 KiB requests many at a time, and large ones, read the revisions' bytes.
    /// </summary>
    [Test, CancelAfter(240_000)]
    public async Task Whole_and_parts_revisions_read_back_with_small_and_large_requests(CancellationToken ct)
    {
        Tool.Require("nbdcopy", "qemu-img");
        using var t = new TestJob();
        var whole = await BackupAsync(t, ct, "lz4:whole", seed: 1);
        var parts = await BackupAsync(t, ct, "lz4:parts", seed: 2);
        var map = t.Job.ReadChunkMap(t.Job.LoadRevision(parts));
        Assert.That(File.ReadAllBytes(t.Job.Chunks.PathOf(map.Entries[1]))[5], Is.EqualTo(ChunkFileFormat.EncodingParts));
        await using var server = await NbdServerProcess.StartAsync(t.JobPath, ct, "--cache-mib", "4");

        foreach (var revision in new[] { whole, parts })
        {
            var expected = await RestoreAsync(t, revision, ct);
            foreach (var (size, requests) in new[] { (4096, 64), (65536, 16), (1048576, 4) })
            {
                var copy = t.PathIn($"{revision}.{size}");
                await Tool.OkAsync("nbdcopy", ct, "--connections=2", $"--requests={requests}", $"--request-size={size}", server.Uri(revision), copy);
                Assert.That(File.ReadAllBytes(copy), Is.EqualTo(expected), $"revision {revision}, {size}-byte requests");
            }
            var restored = t.PathIn("restored.raw");
            await File.WriteAllBytesAsync(restored, expected, ct);
            await Tool.OkAsync("qemu-img", ct, "bench", "-f", "raw", "-c", "3000", "-d", "16", "-s", "4096", "-S", (Blocks.Size + 68 * 1024).ToString(), server.Uri(revision));
            await Tool.OkAsync("qemu-img", ct, "compare", "-f", "raw", "-F", "raw", server.Uri(revision), restored);
        }
        Assert.That(await server.StopAsync(), Is.Zero, server.StdErr);
    }

    /// <summary>
    /// A flipped byte in part 10 of block 2's chunk: a 4 KiB read in that part is an I/O error (and distrusts the
    /// revisions, as restore does), while a 4 KiB read in part 12 of the same block succeeds, which it could not if
    /// the block were decoded whole; a large read of the block fails too (it decodes the whole chunk).
    /// </summary>
    [Test, CancelAfter(120_000)]
    public async Task A_flipped_byte_in_one_part_fails_reads_of_that_part_only_and_distrusts(CancellationToken ct)
    {
        Tool.Require("qemu-io");
        using var t = new TestJob();
        var revision = await BackupAsync(t, ct, "lz4:parts", seed: 3);
        var map = t.Job.ReadChunkMap(t.Job.LoadRevision(revision));
        var chunk = t.Job.Chunks.PathOf(map.Entries[2]);
        File.SetAttributes(chunk, FileAttributes.Normal);
        var bytes = File.ReadAllBytes(chunk);
        var count = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(20));
        var at = 16 + 8 + 16 * count;
        for (var i = 0; i < 10; i++) at += BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(16 + 8 + 16 * i));
        bytes[at + 5] ^= 0x10;
        File.WriteAllBytes(chunk, bytes);
        await using var server = await NbdServerProcess.StartAsync(t.JobPath, ct);
        var uri = server.Uri(revision);
        long Part(int block, int part) => (long)block * Blocks.Size + part * 65536L;

        var sound = await Tool.RunAsync("qemu-io", ct, "-r", "-f", "raw", uri, "-c", $"read {Part(2, 12) + 4096} 4096", "-c", $"read {Part(2, 9)} 65536");
        Assert.That(sound.Out + sound.Err, Does.Not.Contain("error"), sound.ToString());
        Assert.That(t.Job.CompleteRevisions().All(r => r.Trust == Trust.Trusted), "nothing failed yet");

        var bad = await Tool.RunAsync("qemu-io", ct, "-r", "-f", "raw", uri, "-c", $"read {Part(2, 10) + 8192} 4096");
        var large = await Tool.RunAsync("qemu-io", ct, "-r", "-f", "raw", uri, "-c", $"read {Part(2, 0)} {Blocks.Size}");
        var others = await Tool.RunAsync("qemu-io", ct, "-r", "-f", "raw", uri, "-c", $"read 0 {2L * Blocks.Size}", "-c", $"read {Part(2, 11)} 4096");

        Assert.That(bad.Out + bad.Err, Does.Contain("Input/output error"), bad.ToString());
        Assert.That(large.Out + large.Err, Does.Contain("Input/output error"), large.ToString());
        Assert.That(others.Out + others.Err, Does.Not.Contain("error"), others.ToString());
        Assert.That(server.StdErr, Does.Contain("block 2").And.Contain(map.Entries[2].ToString()).And.Contain("part 10"));
        Assert.That(t.Job.CompleteRevisions().All(r => r.Trust == Trust.Distrusted), "a bad part distrusts the revisions, as restore does");
    }
}
