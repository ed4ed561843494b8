using Backy.Daemon.Config;
using Backy.Storage;
using Backy.Storage.Chunks;
using Backy.Storage.Jobs;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Storage;

/// <summary><c>compression: lz4 | zstd[:LEVEL]</c>: chunk encoding 2, config spellings, a job switching encodings.</summary>
public class ZstdCompressionTests
{
    [TestCase("lz4", "lz4")]
    [TestCase("zstd", "zstd:3")]
    [TestCase("zstd:1", "zstd:1")]
    [TestCase(" ZSTD:19 ", "zstd:19")]
    public void Compression_spellings_parse(string text, string expected)
    {
        Assert.That(ChunkCompression.TryParse(text, out var c, out var error), Is.True, error);
        Assert.That(c.ToString(), Is.EqualTo(expected));
    }

    [TestCase("zstd:0")]
    [TestCase("zstd:20")]
    [TestCase("zstd:x")]
    [TestCase("gzip")]
    [TestCase("")]
    public void Bad_compressions_are_rejected_with_a_reason(string text)
    {
        Assert.That(ChunkCompression.TryParse(text, out _, out var error), Is.False);
        Assert.That(error, Does.Contain(text.Length == 0 ? "not a compression" : text));
    }

    [Test]
    public void A_zstd_block_is_stored_with_encoding_2_and_reads_back()
    {
        var block = new byte[Blocks.Size];
        for (var i = 0; i < block.Length; i++) block[i] = (byte)("backup chunk "[i % 13] + i / 100_000 % 3);
        var scratch = new byte[ChunkStore.ScratchSize];

        var length = ChunkStore.Encode(block, scratch, ChunkCompression.Zstd(3));

        Assert.That(scratch[5], Is.EqualTo(ChunkFileFormat.EncodingZstd));
        Assert.That(length, Is.LessThan(block.Length / 16));
        using var dir = new TempDir();
        var store = new ChunkStore(dir.Path);
        var id = ChunkId.Of(block);
        WriteChunkFile(store, id, scratch.AsSpan(0, length));
        var back = new byte[Blocks.Size];
        Assert.That(store.Read(id, back, new byte[ChunkStore.ScratchSize]), Is.EqualTo(block.Length));
        Assert.That(back, Is.EqualTo(block));
    }

    [Test]
    public void Random_data_stays_raw_under_zstd()
    {
        var block = new byte[Blocks.Size];
        new Random(3).NextBytes(block);
        var scratch = new byte[ChunkStore.ScratchSize];
        Assert.That(ChunkStore.Encode(block, scratch, ChunkCompression.Zstd(1)), Is.EqualTo(16 + block.Length));
        Assert.That(scratch[5], Is.EqualTo(ChunkFileFormat.EncodingRaw));
    }

    /// <summary>
    /// Golden: a zstd chunk file of 4 MiB of spaces as zstd 1.5.7 (level 3) wrote it. Whatever library or level a
    /// later version uses, this file must stay readable.
    /// </summary>
    [Test]
    public void Golden_zstd_chunk_of_4_MiB_of_spaces_stays_readable()
    {
        var file = Convert.FromBase64String(GoldenZstdSpacesChunk);
        Assert.That(file.AsSpan(0, 8).ToArray(), Is.EqualTo(new byte[] { (byte)'B', (byte)'K', (byte)'Y', (byte)'C', 1, 2, 0, 0 }));
        using var dir = new TempDir();
        var store = new ChunkStore(dir.Path);
        var id = ChunkId.Parse(ChunkFormatGoldenTests.GoldenSpacesId);
        WriteChunkFile(store, id, file);

        var back = new byte[Blocks.Size];
        Assert.That(store.Read(id, back, new byte[ChunkStore.ScratchSize]), Is.EqualTo(Blocks.Size));
        Assert.That(back, Is.All.EqualTo((byte)' '));
    }

    public const string GoldenZstdSpacesChunk =
        "QktZQwECAAAAAEAAkwAAACi1L/2AWAAAQABUAAAQICABAPv/OcACAgAQIAIAECACABAgAgAQIAIAECACABAgAgAQIAIAECACABAgAgAQIAIAECACABAgAgAQIAIAECACABAgAgAQIAIAECACABAgAgAQIAIAECACABAgAgAQIAIAECACABAgAgAQIAIAECACABAgAgAQIAIAECACABAgAwAQIA==";

    [Test]
    public void A_damaged_zstd_payload_is_a_corrupt_chunk()
    {
        var file = Convert.FromBase64String(GoldenZstdSpacesChunk);
        file[^3] ^= 0x55;
        using var dir = new TempDir();
        var store = new ChunkStore(dir.Path);
        var id = ChunkId.Parse(ChunkFormatGoldenTests.GoldenSpacesId);
        WriteChunkFile(store, id, file);

        Assert.Throws<ChunkCorruptedException>(() => store.Read(id, new byte[Blocks.Size], new byte[ChunkStore.ScratchSize]));
    }

    [Test]
    public void Job_config_reads_and_writes_compression_and_reports_a_bad_one()
    {
        var config = JobConfig.Parse("source: {type: file, filename: /x}\ncompression: zstd:1\n");
        Assert.That(config.Compression, Is.EqualTo(ChunkCompression.Zstd(1)));
        Assert.That(JobConfig.Parse(config.Serialize()), Is.EqualTo(config).Using<JobConfig>((a, b) => a.Compression == b.Compression));
        Assert.That(JobConfig.Parse("source: {type: file, filename: /x}\n").Compression, Is.Null);
        var e = Assert.Throws<ConfigException>(() => JobConfig.Parse("source: {type: file, filename: /x}\ncompression: zstd:99\n"))!;
        Assert.That(e.Message, Does.Contain("compression: 'zstd:99': the zstd level must be a whole number from 1 to 19"));
    }

    [Test]
    public void Daemon_config_takes_the_job_compression_over_the_global_one()
    {
        var config = DaemonConfigReader.Parse("""
            global: {base-dir: /srv/backy, compression: zstd}
            schedules: {s: {daily: {interval: 1d, keep: 1}}}
            jobs:
              a: {schedule: s, source: {type: file, filename: /a}}
              b: {schedule: s, source: {type: file, filename: /b}, compression: lz4}
              c: {schedule: s, source: {type: file, filename: /c}, compression: "zstd:1"}
            """, "c");
        Assert.That(config.Global.Compression, Is.EqualTo(ChunkCompression.Zstd(3)));
        Assert.That(config.Jobs["a"].Compression, Is.EqualTo(ChunkCompression.Zstd(3)));
        Assert.That(config.Jobs["b"].Compression, Is.EqualTo(ChunkCompression.Lz4));
        Assert.That(config.Jobs["c"].Compression, Is.EqualTo(ChunkCompression.Zstd(1)));

        var e = Assert.Throws<ConfigValidationException>(() => DaemonConfigReader.Parse("""
            global: {base-dir: /srv/backy, compression: brotli}
            schedules: {s: {daily: {interval: 1d, keep: 1}}}
            jobs:
              a: {schedule: s, source: {type: file, filename: /a}, compression: "zstd:0"}
            """, "c"))!;
        Assert.That(e.Errors.Select(x => x.KeyPath), Is.EquivalentTo(new[] { "global.compression", "jobs.a.compression" }));
    }

    [Test, CancelAfter(120_000)]
    public async Task A_job_switching_from_lz4_to_zstd_keeps_every_revision_restorable(CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 6L * Blocks.Size + 4321, seed: 8);
        var first = TestJob.Sha(t.ImagePath);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var lz4Chunks = t.Job.Chunks.EnumerateChunks().Select(c => c.Id).ToHashSet();
        Assert.That(Encodings(t, lz4Chunks), Is.All.EqualTo(ChunkFileFormat.EncodingParts), "plain lz4 is in parts");

        File.AppendAllText(t.Job.ConfigPath, "compression: zstd:1\n");
        TestImages.Poke(t.ImagePath, TestImages.Block(1) + 3, seed: 5);
        var text = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("zstd compressed text block ", 200_000)));
        using (var f = new FileStream(t.ImagePath, FileMode.Open, FileAccess.Write)) { f.Position = TestImages.Block(4); f.Write(text, 0, Blocks.Size); }
        var second = TestJob.Sha(t.ImagePath);
        var backup = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily");
        Assert.That(backup.ExitCode, Is.Zero, backup.StdErr);

        var newChunks = t.Job.Chunks.EnumerateChunks().Select(c => c.Id).Where(id => !lz4Chunks.Contains(id)).ToList();
        Assert.That(newChunks, Is.Not.Empty);
        Assert.That(Encodings(t, newChunks), Does.Contain(ChunkFileFormat.EncodingZstd));
        Assert.That(Encodings(t, newChunks), Has.None.EqualTo(ChunkFileFormat.EncodingLz4));

        foreach (var (spec, sha) in new[] { ("1", first), ("0", second) })
        {
            var target = t.PathIn("r" + spec);
            var r = await WorkerProcess.RunAsync(t.JobPath, ct, "restore", "-r", spec, target);
            Assert.That(r.ExitCode, Is.Zero, r.StdErr);
            Assert.That(TestJob.Sha(target), Is.EqualTo(sha), $"revision {spec}");
        }
        foreach (var spec in new[] { "0", "1" })
        {
            var verify = await WorkerProcess.RunAsync(t.JobPath, ct, "verify", "-r", spec);
            Assert.That(verify.ExitCode, Is.Zero, verify.StdErr);
        }
    }

    private static List<byte> Encodings(TestJob t, IEnumerable<ChunkId> ids) =>
        ids.Select(id => File.ReadAllBytes(t.Job.Chunks.PathOf(id))[5]).ToList();

    private static void WriteChunkFile(ChunkStore store, ChunkId id, ReadOnlySpan<byte> file)
    {
        var path = store.PathOf(id);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, file.ToArray());
    }

    private sealed class TempDir : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "backy-zstd-" + Guid.NewGuid().ToString("N")[..12]);
        public TempDir() => Directory.CreateDirectory(Path);
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
