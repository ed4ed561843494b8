using Backy.Storage.Jobs;
using Backy.Storage.Legacy;
using Backy.Storage.Revisions;
using Backy.Tests.Legacy;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Nbd;

/// <summary>
/// Revisions the Python backy wrote (chunked with python-lzo, and cowfile) are served as they are, through the
/// same read path as restore, and `upgrade` and `purge` beside a connected client keep the old chunks it reads.
/// </summary>
[Parallelizable(ParallelScope.None)]
public class NbdLegacyTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("backy-nbd-legacy-").FullName;

    [TearDown]
    public void TearDown()
    {
        foreach (var f in Directory.EnumerateFileSystemEntries(_dir, "*", SearchOption.AllDirectories))
            if (File.Exists(f)) File.SetAttributes(f, FileAttributes.Normal);
        Directory.Delete(_dir, recursive: true);
    }

    private static async Task<LegacyJobBuilder> BuildAsync(string dir, CancellationToken ct)
    {
        var builder = new LegacyJobBuilder(dir);
        var first = LegacyJobBuilder.MakeImage(1, 5L * LegacyJobBuilder.Block + 12_345);
        // Block 1 all zeros: left out of the mapping, a hole.
        first.AsSpan(LegacyJobBuilder.Block, LegacyJobBuilder.Block).Clear();
        foreach (var b in new[] { 0, 2, 3, 4, 5 }) first[b * LegacyJobBuilder.Block + 10] = (byte)(b + 1); // surely data
        builder.AddCowfile(LegacyJobBuilder.MakeImage(2, LegacyJobBuilder.Block + 4096), LegacyImagesTests.T(1), ["daily"]);
        builder.AddChunked(first, LegacyImagesTests.T(2), ["daily"]);
        builder.AddChunked(LegacyJobBuilder.MakeImage(3, first.Length, first, changedBlocks: 2), LegacyImagesTests.T(3), ["weekly"], omitZeroBlocks: false);
        await builder.FinishAsync(ct);
        return builder;
    }

    [Test, CancelAfter(180_000)]
    public async Task Chunked_and_cowfile_revisions_are_listed_and_nbdcopy_reads_them_bit_identically(CancellationToken ct)
    {
        Tool.Require("nbdinfo", "nbdcopy");
        var builder = await BuildAsync(_dir, ct);
        await using var server = await NbdServerProcess.StartAsync(_dir, ct);

        var list = await Tool.OkAsync("nbdinfo", ct, "--list", server.Address);
        foreach (var id in builder.Order)
            Assert.That(list.Out, Does.Contain($"export=\"{id}\""), list.Out);
        Assert.That(list.Out, Does.Contain("weekly"));

        foreach (var id in builder.Order)
        {
            // Many requests in flight on several connections: the concurrent read path, on the old formats.
            var copy = Path.Combine(_dir, $"copy-{id}");
            await Tool.OkAsync("nbdcopy", ct, "--connections=2", "--requests=16", "--request-size=65536", server.Uri(id), copy);
            Bytes.AssertSame(builder.Images[id], await File.ReadAllBytesAsync(copy, ct), id);
            File.Delete(copy);
        }
        // The chunked revision's omitted block is a hole (the cowfile has none: every block is stored).
        var map = await Tool.OkAsync("nbdinfo", ct, "--map", server.Uri(builder.Order[1]));
        Assert.That(map.Out, Does.Match($@"(^|\n)\s*{LegacyJobBuilder.Block}\s+{LegacyJobBuilder.Block}\s+3\s"), map.Out);
        Assert.That(await server.StopAsync(), Is.Zero, server.StdErr);
    }

    [Test, CancelAfter(240_000)]
    public async Task Upgrade_and_purge_beside_a_connected_client_keep_the_old_chunks_it_reads(CancellationToken ct)
    {
        Tool.Require("nbdcopy");
        var builder = await BuildAsync(_dir, ct);
        var served = builder.Order[1];
        var oldChunks = Directory.EnumerateFiles(builder.ChunkDir, "*" + LegacyFormat.ChunkExtension, SearchOption.AllDirectories).ToList();
        await using var server = await NbdServerProcess.StartAsync(_dir, ct);
        // A client holds the legacy export open.
        using var client = await RawNbdClient.ConnectAsync(server.Address, ct);
        await client.GreetAsync(ct);
        await client.GoAsync(served, ct);

        var upgrade = await WorkerProcess.RunAsync(_dir, ct, "upgrade");
        var purge = await WorkerProcess.RunAsync(_dir, ct, "purge");

        Assert.That(upgrade.ExitCode, Is.Zero, upgrade.StdErr);
        Assert.That(purge.ExitCode, Is.Zero, purge.StdErr);
        var job = new JobDirectory(_dir);
        Assert.That(job.LoadRevisions().Select(r => r.BackendType), Is.All.EqualTo(Revision.OurBackendType), "everything was converted");
        var pinned = new LegacyChunkedImage(LegacyChunkMap.Read(Directory.GetFiles(Path.Combine(_dir, "pins")).Single()), new LegacyChunkStore(builder.ChunkDir));
        Assert.That(pinned.Hashes().Select(h => builder.ChunkPath(h)).All(File.Exists), "the served revision's old chunks stay");
        // Its export, opened before the upgrade, still reads the old format, for new connections too.
        var copy = Path.Combine(_dir, "served");
        await Tool.OkAsync("nbdcopy", ct, "--connections=4", server.Uri(served), copy);
        Bytes.AssertSame(builder.Images[served], await File.ReadAllBytesAsync(copy, ct), served);

        client.Dispose();
        Assert.That(await server.StopAsync(), Is.Zero, server.StdErr);
        var after = await WorkerProcess.RunAsync(_dir, ct, "purge");
        Assert.That(after.ExitCode, Is.Zero, after.StdErr);
        Assert.That(oldChunks.Where(File.Exists), Is.Empty, "with the server gone the old chunks are swept");
        Assert.That(Directory.GetFiles(Path.Combine(_dir, "pins")), Is.Empty);
        // And the converted revisions read the same through the server.
        await using var again = await NbdServerProcess.StartAsync(_dir, ct);
        await Tool.OkAsync("nbdcopy", ct, again.Uri(served), Path.Combine(_dir, "converted"));
        Bytes.AssertSame(builder.Images[served], await File.ReadAllBytesAsync(Path.Combine(_dir, "converted"), ct), "converted");
    }

    [Test, CancelAfter(180_000)]
    public async Task A_corrupt_old_chunk_fails_reads_of_its_block_only(CancellationToken ct)
    {
        Tool.Require("qemu-io");
        var builder = await BuildAsync(_dir, ct);
        var id = builder.Order[1];
        var map = LegacyChunkMap.Read(Path.Combine(_dir, id));
        var victim = builder.ChunkPath(map.HashOf(2)!);
        var other = builder.ChunkPath(map.HashOf(0)!);
        File.SetAttributes(victim, FileAttributes.Normal);
        File.Copy(other, victim, overwrite: true);
        await using var server = await NbdServerProcess.StartAsync(_dir, ct);
        var uri = server.Uri(id);

        var good = await Tool.RunAsync("qemu-io", ct, "-r", "-f", "raw", uri, "-c", $"read 0 {2L * LegacyJobBuilder.Block}");
        var bad = await Tool.RunAsync("qemu-io", ct, "-r", "-f", "raw", uri, "-c", $"read {2L * LegacyJobBuilder.Block + 4096} 4096");

        Assert.That(good.Out + good.Err, Does.Not.Contain("error"), good.ToString());
        Assert.That(bad.Out + bad.Err, Does.Contain("Input/output error"), bad.ToString());
        Assert.That(server.StdErr, Does.Contain("block 2").And.Contain(map.HashOf(2)!));
    }
}
