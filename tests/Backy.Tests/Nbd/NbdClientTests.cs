using Backy.Storage.Chunks;
using Backy.Storage.Revisions;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Nbd;

/// <summary>nbd-server against real NBD clients: libnbd's nbdinfo and nbdcopy, qemu-img and qemu-io.</summary>
[Parallelizable(ParallelScope.None)]
public class NbdClientTests
{
    /// <summary>Block 0 and 3 are holes, the rest mixed data, and an odd tail.</summary>
    private static async Task<string> BackupAsync(TestJob t, CancellationToken ct, int seed = 1, string tag = "daily")
    {
        TestImages.WriteMixed(t.ImagePath, 6L * Blocks.Size + 4096 * 3, seed);
        using (var f = new FileStream(t.ImagePath, FileMode.Open, FileAccess.Write))
        {
            f.Write(new byte[Blocks.Size]);
            f.Position = 3L * Blocks.Size;
            f.Write(new byte[Blocks.Size]);
        }
        // Every other block surely holds data (a mixed image may have an all-zero block by chance).
        foreach (var b in new[] { 1, 2, 4, 5, 6 }) TestImages.Poke(t.ImagePath, TestImages.Block(b) + 10, seed + b);
        var r = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", tag);
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        return t.Job.CompleteRevisions()[^1].Id;
    }

    private static Task<byte[]> RestoreAsync(TestJob t, string revision, CancellationToken ct) =>
        WorkerProcess.RestoreBytesAsync(t.JobPath, revision, ct);

    [Test, CancelAfter(120_000)]
    public async Task nbdinfo_list_shows_every_revision_with_date_and_tags(CancellationToken ct)
    {
        Tool.Require("nbdinfo");
        using var t = new TestJob();
        var first = await BackupAsync(t, ct, 1, "daily");
        var second = await BackupAsync(t, ct, 2, "manual:keep");
        await using var server = await NbdServerProcess.StartAsync(t.JobPath, ct);

        var list = await Tool.OkAsync("nbdinfo", ct, "--list", server.Address);

        Assert.That(list.Out, Does.Contain($"export=\"{first}\"").And.Contain($"export=\"{second}\""));
        Assert.That(list.Out, Does.Contain("daily").And.Contain("manual:keep"));
        Assert.That(list.Out, Does.Contain("block_size_minimum: 512").Or.Contain("block_size_minimum: 1"));
        Assert.That(list.Out, Does.Contain("can_multi_conn: true").And.Contain("is_read_only: true"));
    }

    [Test, CancelAfter(120_000)]
    public async Task nbdinfo_map_reports_the_holes_of_the_revision(CancellationToken ct)
    {
        Tool.Require("nbdinfo");
        using var t = new TestJob();
        await BackupAsync(t, ct);
        await using var server = await NbdServerProcess.StartAsync(t.JobPath, ct);

        var map = await Tool.OkAsync("nbdinfo", ct, "--map", server.Uri());

        var lines = map.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)).ToList();
        // offset length type description; a client may split a run at its own request boundaries, so merge.
        var runs = new List<(long Offset, long Length, string Type)>();
        foreach (var l in lines)
        {
            var (offset, length, type) = (long.Parse(l[0]), long.Parse(l[1]), l[2]);
            if (runs.Count > 0 && runs[^1].Type == type && runs[^1].Offset + runs[^1].Length == offset)
                runs[^1] = (runs[^1].Offset, runs[^1].Length + length, type);
            else runs.Add((offset, length, type));
        }
        Assert.That(runs, Is.EqualTo(new[]
        {
            (0L, (long)Blocks.Size, "3"),
            ((long)Blocks.Size, 2L * Blocks.Size, "0"),
            (3L * Blocks.Size, (long)Blocks.Size, "3"),
            (4L * Blocks.Size, 2L * Blocks.Size + 3 * 4096, "0"),
        }), map.Out);
    }

    [TestCase(1), TestCase(4)]
    [CancelAfter(120_000)]
    public async Task nbdcopy_of_every_revision_equals_restore(int connections, CancellationToken ct)
    {
        Tool.Require("nbdcopy");
        using var t = new TestJob();
        string[] revisions = [await BackupAsync(t, ct, 1), await BackupAsync(t, ct, 2), await BackupAsync(t, ct, 3)];
        await using var server = await NbdServerProcess.StartAsync(t.JobPath, ct);

        foreach (var revision in revisions)
        {
            var copy = t.PathIn($"copy-{revision}");
            await Tool.OkAsync("nbdcopy", ct, $"--connections={connections}", server.Uri(revision), copy);
            Assert.That(File.ReadAllBytes(copy), Is.EqualTo(await RestoreAsync(t, revision, ct)), revision);
        }
        // The empty name is the newest revision, and specs resolve like -r.
        await Tool.OkAsync("nbdcopy", ct, server.Uri(""), t.PathIn("newest"));
        Assert.That(File.ReadAllBytes(t.PathIn("newest")), Is.EqualTo(await RestoreAsync(t, revisions[2], ct)));
        await Tool.OkAsync("nbdcopy", ct, server.Uri("1"), t.PathIn("one-back"));
        Assert.That(File.ReadAllBytes(t.PathIn("one-back")), Is.EqualTo(await RestoreAsync(t, revisions[1], ct)));
    }

    /// <summary>
    /// One connection, many small requests in flight at once (more than the server handles at a time): replies come
    /// out of order, concurrent misses on one chunk share a decode, and with a one-block cache blocks are evicted and
    /// decoded into uncached buffers while others are still read; every byte must still be the revision's.
    /// </summary>
    [TestCase("4"), TestCase("256")]
    [CancelAfter(180_000)]
    public async Task Many_concurrent_reads_on_one_connection_return_the_right_bytes(string cacheMiB, CancellationToken ct)
    {
        Tool.Require("nbdcopy", "qemu-img");
        using var t = new TestJob();
        var revision = await BackupAsync(t, ct);
        var expected = await RestoreAsync(t, revision, ct);
        await using var server = await NbdServerProcess.StartAsync(t.JobPath, ct, "--cache-mib", cacheMiB);

        await Tool.OkAsync("nbdcopy", ct, "--connections=1", "--requests=64", "--request-size=4096", server.Uri(revision), t.PathIn("small"));
        await Tool.OkAsync("nbdcopy", ct, "--connections=1", "--requests=16", "--request-size=1048576", server.Uri(revision), t.PathIn("large"));
        // qemu's client at depth 16, reads hopping from block to block, then a compare over the same connection type.
        await Tool.OkAsync("qemu-img", ct, "bench", "-f", "raw", "-c", "2000", "-d", "16", "-s", "4096", "-S", (Blocks.Size + 4096).ToString(), server.Uri(revision));
        var restored = t.PathIn("restored.raw");
        await File.WriteAllBytesAsync(restored, expected, ct);
        await Tool.OkAsync("qemu-img", ct, "compare", "-f", "raw", "-F", "raw", server.Uri(revision), restored);

        Assert.That(File.ReadAllBytes(t.PathIn("small")), Is.EqualTo(expected), "4 KiB requests, 64 in flight");
        Assert.That(File.ReadAllBytes(t.PathIn("large")), Is.EqualTo(expected), "1 MiB requests, 16 in flight");
        Assert.That(await server.StopAsync(), Is.Zero, server.StdErr);
    }

    /// <summary>A client reading sequentially one request at a time gets the next blocks decoded ahead; the bytes stay right.</summary>
    [Test, CancelAfter(180_000)]
    public async Task A_sequential_reader_at_depth_1_gets_blocks_decoded_ahead(CancellationToken ct)
    {
        Tool.Require("qemu-img", "qemu-io");
        using var t = new TestJob();
        var revision = await BackupAsync(t, ct);
        var expected = await RestoreAsync(t, revision, ct);
        await using var server = await NbdServerProcess.StartAsync(t.JobPath, ct);
        var size = expected.Length / 65536;

        await Tool.OkAsync("qemu-img", ct, "bench", "-f", "raw", "-c", size.ToString(), "-d", "1", "-s", "65536", server.Uri(revision));
        // Then read block 6 (its data decoded ahead, or by this read) and compare a stretch of it.
        var io = await Tool.OkAsync("qemu-io", ct, "-r", "-f", "raw", server.Uri(revision), "-c", $"read -v {6L * Blocks.Size + 10} 16");
        Assert.That(await server.StopAsync(), Is.Zero, server.StdErr);

        var stats = System.Text.RegularExpressions.Regex.Match(server.StdErr, @"(\d+) read-ahead decodes");
        Assert.That(stats.Success, server.StdErr);
        Assert.That(long.Parse(stats.Groups[1].Value), Is.GreaterThan(0), server.StdErr);
        var hex = string.Join(" ", expected.AsSpan((int)(6L * Blocks.Size + 10), 16).ToArray().Select(b => b.ToString("x2")));
        Assert.That(io.Out, Does.Contain(hex), io.Out);
    }

    [Test, CancelAfter(120_000)]
    public async Task qemu_img_compare_finds_the_export_identical_to_the_restored_file(CancellationToken ct)
    {
        Tool.Require("qemu-img");
        using var t = new TestJob();
        var revision = await BackupAsync(t, ct);
        var restored = t.PathIn("restored.raw");
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "restore", "-r", revision, restored)).ExitCode, Is.Zero);
        await using var server = await NbdServerProcess.StartAsync(t.JobPath, ct);

        var same = await Tool.RunAsync("qemu-img", ct, "compare", "-f", "raw", "-F", "raw", server.Uri(revision), restored);
        TestImages.Poke(restored, TestImages.Block(5) + 4096);
        var different = await Tool.RunAsync("qemu-img", ct, "compare", "-f", "raw", "-F", "raw", server.Uri(revision), restored);

        Assert.That(same.ExitCode, Is.Zero, same.ToString());
        Assert.That(different.ExitCode, Is.EqualTo(1), "a compare that cannot fail proves nothing\n" + different);
    }

    [Test, CancelAfter(120_000)]
    public async Task Writable_export_reads_back_what_qemu_io_wrote_and_the_revision_restores_unchanged(CancellationToken ct)
    {
        Tool.Require("qemu-io", "nbdcopy");
        using var t = new TestJob();
        var revision = await BackupAsync(t, ct);
        var before = await RestoreAsync(t, revision, ct);
        var overlays = Directory.CreateDirectory(t.PathIn("overlays")).FullName;
        await using (var server = await NbdServerProcess.StartAsync(t.JobPath, ct, "--writable", "--overlay-dir", overlays))
        {
            var uri = server.Uri(revision);
            // Unaligned, across a block boundary, into a hole, write-zeroes and discard.
            var io = await Tool.OkAsync("qemu-io", ct, "-f", "raw", uri,
                "-c", "write -P 0xab 100 5000",
                "-c", $"write -P 0xcd {Blocks.Size - 1000} 3000",
                "-c", $"write -P 0xef {3L * Blocks.Size + 4096} 8192",
                "-c", $"write -z {2L * Blocks.Size} {Blocks.Size}",
                "-c", $"discard {5L * Blocks.Size} 65536");
            Assert.That(io.Out + io.Err, Does.Not.Contain("error").IgnoreCase.And.Not.Contain("failed"));
            // A second connection sees what the first wrote: the overlay belongs to the export.
            var check = await Tool.OkAsync("qemu-io", ct, "-f", "raw", uri,
                "-c", "read -P 0xab 100 5000",
                "-c", $"read -P 0xcd {Blocks.Size - 1000} 3000",
                "-c", $"read -P 0xef {3L * Blocks.Size + 4096} 8192",
                "-c", $"read -P 0 {2L * Blocks.Size} {Blocks.Size}",
                "-c", $"read -P 0 {5L * Blocks.Size} 65536");
            Assert.That(check.Out + check.Err, Does.Not.Contain("Pattern verification failed").And.Not.Contain("error"));
            // Bytes around the writes are the revision's.
            var image = t.PathIn("overlaid");
            await Tool.OkAsync("nbdcopy", ct, uri, image);
            var overlaid = File.ReadAllBytes(image);
            Assert.That(overlaid.AsSpan(0, 100).ToArray(), Is.EqualTo(before.AsSpan(0, 100).ToArray()));
            Assert.That(overlaid.AsSpan(5100, 4096).ToArray(), Is.EqualTo(before.AsSpan(5100, 4096).ToArray()));
            Assert.That(overlaid.AsSpan(Blocks.Size + 2000, 100000).ToArray(), Is.EqualTo(before.AsSpan(Blocks.Size + 2000, 100000).ToArray()));
            Assert.That(Directory.GetFiles(overlays), Is.Empty, "the overlay file is unlinked at once, so nothing outlives the server");
            Assert.That(await server.StopAsync(), Is.Zero, server.StdErr);
        }
        Assert.That(await RestoreAsync(t, revision, ct), Is.EqualTo(before));
        Assert.That(t.Job.LoadRevision(revision).Trust, Is.EqualTo(Trust.Trusted));
    }

    [Test, CancelAfter(120_000)]
    public async Task A_corrupt_chunk_fails_reads_of_exactly_its_block_names_it_in_the_log_and_distrusts(CancellationToken ct)
    {
        Tool.Require("qemu-io");
        using var t = new TestJob();
        // Whole chunks (encodings 1 and 0), where any read of the block decodes the chunk; for chunks in parts
        // (the default) a bad part fails only the reads of that part: NbdPartsTests.
        File.AppendAllText(t.Job.ConfigPath, "compression: lz4:whole\n");
        var revision = await BackupAsync(t, ct);
        var map = t.Job.ReadChunkMap(t.Job.LoadRevision(revision));
        var chunk = t.Job.Chunks.PathOf(map.Entries[2]);
        File.SetAttributes(chunk, FileAttributes.Normal);
        var bytes = File.ReadAllBytes(chunk);
        bytes[^10] ^= 0xff;
        File.WriteAllBytes(chunk, bytes);
        await using var server = await NbdServerProcess.StartAsync(t.JobPath, ct);
        var uri = server.Uri(revision);

        var before = await Tool.RunAsync("qemu-io", ct, "-r", "-f", "raw", uri, "-c", $"read 0 {2L * Blocks.Size}");
        var bad = await Tool.RunAsync("qemu-io", ct, "-r", "-f", "raw", uri, "-c", $"read {2L * Blocks.Size + 4096} 4096");
        var after = await Tool.RunAsync("qemu-io", ct, "-r", "-f", "raw", uri, "-c", $"read {3L * Blocks.Size} {3L * Blocks.Size}");
        var straddling = await Tool.RunAsync("qemu-io", ct, "-r", "-f", "raw", uri, "-c", $"read {2L * Blocks.Size - 4096} 8192");

        Assert.That(before.Out + before.Err, Does.Not.Contain("error"), before.ToString());
        Assert.That(bad.Out + bad.Err, Does.Contain("Input/output error"), bad.ToString());
        Assert.That(after.Out + after.Err, Does.Not.Contain("error"), after.ToString());
        Assert.That(straddling.Out + straddling.Err, Does.Contain("Input/output error"), straddling.ToString());
        Assert.That(server.StdErr, Does.Contain("block 2").And.Contain(map.Entries[2].ToString()));
        Assert.That(t.Job.CompleteRevisions().All(r => r.Trust == Trust.Distrusted), "a bad chunk distrusts the revisions, as restore does");
    }
}
