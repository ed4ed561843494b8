using System.Buffers.Binary;
using Backy.Storage.Chunks;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Storage;

/// <summary>Chunk encoding 3: a block in independently compressed 64 KiB parts, each with its own checksum.</summary>
public class ChunkPartsTests
{
    private static byte[] TextBlock(int length, int seed)
    {
        var r = new Random(seed);
        var words = "block device backup restore chunk revision schedule daily weekly snapshot image volume guest ".Split(' ');
        var block = new byte[length];
        var at = 0;
        while (at < length)
        {
            var w = System.Text.Encoding.ASCII.GetBytes(words[r.Next(words.Length)] + " ");
            var n = Math.Min(w.Length, length - at);
            w.AsSpan(0, n).CopyTo(block.AsSpan(at));
            at += n;
        }
        // A quarter of random parts: stored raw inside the parts encoding.
        for (var p = 0; p < length / ChunkParts.DefaultPartSize; p += 4)
            r.NextBytes(block.AsSpan(p * ChunkParts.DefaultPartSize, ChunkParts.DefaultPartSize));
        return block;
    }

    private static (ChunkStore Store, ChunkId Id, byte[] File) Stored(TempDir dir, byte[] block, ChunkCompression compression)
    {
        var scratch = new byte[ChunkStore.ScratchSize];
        var file = scratch.AsSpan(0, ChunkStore.Encode(block, scratch, compression)).ToArray();
        var store = new ChunkStore(dir.Path);
        var id = ChunkId.Of(block);
        Write(store, id, file);
        return (store, id, file);
    }

    private static void Write(ChunkStore store, ChunkId id, byte[] file)
    {
        var path = store.PathOf(id);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, file);
    }

    private static int PartOffset(byte[] file, int index)
    {
        var count = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(16 + 4));
        var at = 16 + 8 + 16 * count;
        for (var i = 0; i < index; i++) at += BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(16 + 8 + 16 * i));
        return at;
    }

    [TestCase("lz4:parts")]
    [TestCase("zstd:1:parts")]
    public void A_block_in_parts_reads_back_whole_and_part_by_part(string spelling)
    {
        var compression = ChunkCompression.Parse(spelling, "compression");
        var block = TextBlock(Blocks.Size, 1);
        using var dir = new TempDir();
        var (store, id, file) = Stored(dir, block, compression);

        Assert.That(file[5], Is.EqualTo(ChunkFileFormat.EncodingParts));
        Assert.That(BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(16)), Is.EqualTo(64 * 1024), "part size");
        Assert.That(BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(20)), Is.EqualTo(64), "part count");
        Assert.That(file.Length, Is.LessThan(block.Length * 3 / 4), "the text parts are compressed");
        var encodings = Enumerable.Range(0, 64).Select(i => file[16 + 8 + 16 * i + 4]).ToList();
        Assert.That(encodings, Does.Contain(ChunkFileFormat.EncodingRaw), "random parts are stored raw");
        Assert.That(encodings, Does.Contain(compression.Algorithm == ChunkCompression.Kind.Lz4 ? ChunkFileFormat.EncodingLz4 : ChunkFileFormat.EncodingZstd));

        var back = new byte[Blocks.Size];
        Assert.That(store.Read(id, back, new byte[ChunkStore.ScratchSize]), Is.EqualTo(Blocks.Size));
        Assert.That(back, Is.EqualTo(block));
        var part = new byte[ChunkParts.DefaultPartSize];
        foreach (var i in new[] { 0, 1, 4, 37, 63 })
        {
            Assert.That(store.ReadPart(id, ChunkParts.DefaultPartSize, i, Blocks.Size, part), Is.EqualTo(part.Length));
            Assert.That(part, Is.EqualTo(block.AsSpan(i * part.Length, part.Length).ToArray()), $"part {i}");
        }
        Assert.That(store.ReadPart(id, 256 * 1024, 0, Blocks.Size, new byte[256 * 1024]), Is.EqualTo(-1), "another part size: read whole");
    }

    [Test]
    public void A_short_last_block_has_a_short_last_part()
    {
        var block = TextBlock(100_000, 2);
        using var dir = new TempDir();
        var (store, id, file) = Stored(dir, block, ChunkCompression.Lz4Parts);
        Assert.That(BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(8)), Is.EqualTo(100_000));
        Assert.That(BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(20)), Is.EqualTo(2));
        var part = new byte[ChunkParts.DefaultPartSize];
        Assert.That(store.ReadPart(id, ChunkParts.DefaultPartSize, 1, 100_000, part), Is.EqualTo(100_000 - 65536));
        Assert.That(part.AsSpan(0, 100_000 - 65536).ToArray(), Is.EqualTo(block.AsSpan(65536).ToArray()));
        var back = new byte[Blocks.Size];
        Assert.That(store.Read(id, back, new byte[ChunkStore.ScratchSize]), Is.EqualTo(100_000));
        Assert.That(back.AsSpan(0, 100_000).ToArray(), Is.EqualTo(block));
        Assert.Throws<ChunkCorruptedException>(() => store.ReadPart(id, ChunkParts.DefaultPartSize, 0, Blocks.Size, part), "the chunk map expects another length");
    }

    [Test]
    public void A_whole_chunk_has_no_parts_to_read()
    {
        var block = TextBlock(Blocks.Size, 3);
        using var dir = new TempDir();
        var (store, id, file) = Stored(dir, block, ChunkCompression.Lz4Whole);
        Assert.That(file[5], Is.EqualTo(ChunkFileFormat.EncodingLz4));
        Assert.That(store.ReadPart(id, ChunkParts.DefaultPartSize, 0, Blocks.Size, new byte[ChunkParts.DefaultPartSize]), Is.EqualTo(-1));
        Assert.Throws<ChunkCorruptedException>(() => store.ReadPart(ChunkId.Of("nothing"u8), ChunkParts.DefaultPartSize, 0, Blocks.Size, new byte[ChunkParts.DefaultPartSize]));
    }

    [Test]
    public void A_flipped_byte_in_a_part_fails_that_part_and_the_whole_read_only()
    {
        var block = TextBlock(Blocks.Size, 4);
        using var dir = new TempDir();
        var (store, id, file) = Stored(dir, block, ChunkCompression.Lz4Parts);
        foreach (var (damaged, what) in new[] { (5, "LZ4 part"), (8, "raw part") })
        {
            var copy = (byte[])file.Clone();
            copy[PartOffset(copy, damaged) + 100] ^= 0x20;
            Write(store, id, copy);
            var part = new byte[ChunkParts.DefaultPartSize];
            var e = Assert.Throws<ChunkCorruptedException>(() => store.ReadPart(id, ChunkParts.DefaultPartSize, damaged, Blocks.Size, part), what)!;
            Assert.That(e.Message, Does.Contain($"part {damaged}"));
            Assert.That(store.ReadPart(id, ChunkParts.DefaultPartSize, damaged + 1, Blocks.Size, part), Is.EqualTo(part.Length), "the next part is sound");
            Assert.That(part, Is.EqualTo(block.AsSpan((damaged + 1) * part.Length, part.Length).ToArray()));
            Assert.Throws<ChunkCorruptedException>(() => store.Read(id, new byte[Blocks.Size], new byte[ChunkStore.ScratchSize]), what);
        }
    }

    /// <summary>
    /// A damaged checksum in the table, the block itself intact: the part read and the deep whole reads (verify,
    /// backup's check) fail on it; restore's whole read, proven by the block's name, still returns the block.
    /// </summary>
    [Test]
    public void A_damaged_part_checksum_fails_part_and_deep_reads_while_the_block_still_restores()
    {
        var block = TextBlock(Blocks.Size, 5);
        using var dir = new TempDir();
        var (store, id, file) = Stored(dir, block, ChunkCompression.Lz4Parts);
        file[16 + 8 + 16 * 9 + 12] ^= 1;
        Write(store, id, file);
        var scratch = new byte[ChunkStore.ScratchSize];
        var e = Assert.Throws<ChunkCorruptedException>(() => store.Read(id, new byte[Blocks.Size], scratch, deep: true))!;
        Assert.That(e.Message, Does.Contain("part 9"));
        Assert.Throws<ChunkCorruptedException>(() => store.ReadAndRecordChecked(id, new byte[Blocks.Size], scratch));
        Assert.Throws<ChunkCorruptedException>(() => store.ReadPart(id, ChunkParts.DefaultPartSize, 9, Blocks.Size, new byte[ChunkParts.DefaultPartSize]));
        var back = new byte[Blocks.Size];
        Assert.That(store.Read(id, back, scratch), Is.EqualTo(Blocks.Size));
        Assert.That(back, Is.EqualTo(block));
    }

    [TestCase(16 + 4, "parts of")]          // part count
    [TestCase(16 + 8 + 16 * 3, "add up to")] // a stored length
    [TestCase(16 + 8 + 16 * 3 + 4, "encoding")] // a part's encoding
    public void A_damaged_part_table_is_a_corrupt_chunk(int offset, string reason)
    {
        var block = TextBlock(Blocks.Size, 6);
        using var dir = new TempDir();
        var (store, id, file) = Stored(dir, block, ChunkCompression.Lz4Parts);
        file[offset] ^= 0x40;
        Write(store, id, file);
        var whole = Assert.Throws<ChunkCorruptedException>(() => store.Read(id, new byte[Blocks.Size], new byte[ChunkStore.ScratchSize]))!;
        Assert.That(whole.Message, Does.Contain(reason));
        Assert.Throws<ChunkCorruptedException>(() => store.ReadPart(id, ChunkParts.DefaultPartSize, 0, Blocks.Size, new byte[ChunkParts.DefaultPartSize]));
    }

    [Test]
    public void A_truncated_parts_chunk_is_corrupt()
    {
        var block = TextBlock(Blocks.Size, 7);
        using var dir = new TempDir();
        var (store, id, file) = Stored(dir, block, ChunkCompression.Lz4Parts);
        Write(store, id, file[..^10]);
        Assert.Throws<ChunkCorruptedException>(() => store.Read(id, new byte[Blocks.Size], new byte[ChunkStore.ScratchSize]));
        Assert.Throws<ChunkCorruptedException>(() => store.ReadPart(id, ChunkParts.DefaultPartSize, 63, Blocks.Size, new byte[ChunkParts.DefaultPartSize]));
    }

    /// <summary>Golden: a parts chunk as this version wrote it (5,000 bytes of text: one LZ4 part). Must stay readable.</summary>
    [Test]
    public void Golden_parts_chunk_stays_readable()
    {
        var block = GoldenBlock();
        var file = Convert.FromBase64String(GoldenPartsChunk);
        Assert.That(file.AsSpan(0, 8).ToArray(), Is.EqualTo(new byte[] { (byte)'B', (byte)'K', (byte)'Y', (byte)'C', 1, 3, 0, 0 }));
        using var dir = new TempDir();
        var store = new ChunkStore(dir.Path);
        var id = ChunkId.Of(block);
        Write(store, id, file);
        var back = new byte[Blocks.Size];
        Assert.That(store.Read(id, back, new byte[ChunkStore.ScratchSize]), Is.EqualTo(block.Length));
        Assert.That(back.AsSpan(0, block.Length).ToArray(), Is.EqualTo(block));
        var part = new byte[ChunkParts.DefaultPartSize];
        Assert.That(store.ReadPart(id, ChunkParts.DefaultPartSize, 0, block.Length, part), Is.EqualTo(block.Length));
        Assert.That(part.AsSpan(0, block.Length).ToArray(), Is.EqualTo(block));
    }

    private static byte[] GoldenBlock() => System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 500).Select(i => $"part {i % 97,4} ")))[..5000];

    public const string GoldenPartsChunk = "QktZQwEDAACIEwAAvgEAAAAAAQABAAAApgEAAAEAAACUudk7XXcWZ6RwYXJ0ICAgIDAgCgAVMQoAFTIKABUzCgAVNAoAFTUKABU2CgAVNwoAFTgKABQ5CgAVMWQAFTFkABUxZAAVMWQAFTFkABUxZAAVMWQAFTFkABUxZAAVMWQAFTJkABUyZAAVMmQAFTJkABUyZAAVMmQAFTJkABUyZAAVMmQAFTJkABUzZAAVM2QAFTNkABUzZAAVM2QAFTNkABUzZAAVM2QAFTNkABUzZAAVNGQAFTRkABU0ZAAVNGQAFTRkABU0ZAAVNGQAFTRkABU0ZAAVNGQAFTVkABU1ZAAVNWQAFTVkABU1ZAAVNWQAFTVkABU1ZAAVNWQAFTVkABU2ZAAVNmQAFTZkABU2ZAAVNmQAFTZkABU2ZAAVNmQAFTZkABU2ZAAVN2QAFTdkABU3ZAAVN2QAFTdkABU3ZAAVN2QAFTdkABU3ZAAVN2QAFThkABU4ZAAVOGQAFThkABU4ZAAVOGQAFThkABU4ZAAVOGQAFThkABU5ZAAVOWQAFTlkABU5ZAAVOWQAFTlkABU5ZAAPygP///////////////////+uUCAgMTQg";

    [TestCase("lz4:parts", "lz4")]
    [TestCase("lz4", "lz4")]
    [TestCase("lz4:whole", "lz4:whole")]
    [TestCase("zstd:parts", "zstd:3:parts")]
    [TestCase("ZSTD:1:PARTS", "zstd:1:parts")]
    [TestCase("zstd:19:whole", "zstd:19")]
    public void Parts_spellings_parse(string text, string expected)
    {
        Assert.That(ChunkCompression.TryParse(text, out var c, out var error), Is.True, error);
        Assert.That(c.ToString(), Is.EqualTo(expected));
        Assert.That(ChunkCompression.Parse(c.ToString(), "x"), Is.EqualTo(c));
    }

    [TestCase("lz4:part")]
    [TestCase("parts")]
    [TestCase("zstd:0:parts")]
    public void Bad_parts_spellings_are_rejected(string text) =>
        Assert.That(ChunkCompression.TryParse(text, out _, out _), Is.False);

    [Test, CancelAfter(120_000)]
    public async Task A_job_switching_to_parts_keeps_every_revision_restorable_and_verified(CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 6L * Blocks.Size + 4321, seed: 9);
        var first = TestJob.Sha(t.ImagePath);
        File.AppendAllText(t.Job.ConfigPath, "compression: lz4:whole\n");
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var wholeChunks = t.Job.Chunks.EnumerateChunks().Select(c => c.Id).ToHashSet();
        Assert.That(wholeChunks.Select(id => File.ReadAllBytes(t.Job.Chunks.PathOf(id))[5]), Has.None.EqualTo(ChunkFileFormat.EncodingParts));

        File.WriteAllText(t.Job.ConfigPath, File.ReadAllText(t.Job.ConfigPath).Replace("lz4:whole", "lz4:parts"));
        TestImages.Poke(t.ImagePath, TestImages.Block(1) + 3, seed: 5);
        TestImages.Poke(t.ImagePath, TestImages.Block(6) + 100, seed: 6);
        var second = TestJob.Sha(t.ImagePath);
        var backup = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily");
        Assert.That(backup.ExitCode, Is.Zero, backup.StdErr);
        var newChunks = t.Job.Chunks.EnumerateChunks().Select(c => c.Id).Where(id => !wholeChunks.Contains(id)).ToList();
        Assert.That(newChunks, Is.Not.Empty);
        Assert.That(newChunks.Select(id => File.ReadAllBytes(t.Job.Chunks.PathOf(id))[5]), Is.All.EqualTo(ChunkFileFormat.EncodingParts));

        foreach (var (spec, sha) in new[] { ("1", first), ("0", second) })
        {
            var target = t.PathIn("r" + spec);
            var r = await WorkerProcess.RunAsync(t.JobPath, ct, "restore", "-r", spec, target);
            Assert.That(r.ExitCode, Is.Zero, r.StdErr);
            Assert.That(TestJob.Sha(target), Is.EqualTo(sha), $"revision {spec}");
            var verify = await WorkerProcess.RunAsync(t.JobPath, ct, "verify", "-r", spec);
            Assert.That(verify.ExitCode, Is.Zero, verify.StdErr);
        }
    }

    /// <summary>A flipped byte in a part's data, or in its checksum only (restore would not notice: verify is deep).</summary>
    [TestCase(false), TestCase(true)]
    [CancelAfter(120_000)]
    public async Task Verify_finds_a_flipped_byte_in_one_part_and_deletes_the_chunk(bool inChecksum, CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 3L * Blocks.Size, seed: 10);
        File.AppendAllText(t.Job.ConfigPath, "compression: lz4:parts\n");
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var (id, path) = t.Job.Chunks.EnumerateChunks().First();
        var file = File.ReadAllBytes(path);
        if (inChecksum) file[16 + 8 + 16 * 10 + 9] ^= 0x01;
        else file[PartOffset(file, 10) + 7] ^= 0x01;
        File.WriteAllBytes(path, file);

        var verify = await WorkerProcess.RunAsync(t.JobPath, ct, "verify", "-r", "0");
        Assert.That(verify.ExitCode, Is.Not.Zero);
        Assert.That(verify.StdErr + verify.StdOut, Does.Contain(id.ToString()));
        Assert.That(File.Exists(path), Is.False, "the bad chunk file is deleted");
    }

    private sealed class TempDir : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "backy-parts-" + Guid.NewGuid().ToString("N")[..12]);
        public TempDir() => Directory.CreateDirectory(Path);
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
