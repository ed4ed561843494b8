using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;

namespace Backy.Tests.Storage;

/// <summary>Pins the on-disk formats: changing any of these breaks every existing backup.</summary>
public class ChunkFormatGoldenTests
{
    [Test]
    public void Chunk_id_of_4_MiB_of_spaces_is_pinned()
    {
        var block = new byte[Blocks.Size];
        Array.Fill(block, (byte)' ');
        Assert.That(ChunkId.Of(block).ToString(), Is.EqualTo(GoldenSpacesId));
    }

    public const string GoldenSpacesId = "2ffae71df2938ec148cfc20970ace64a";

    [Test]
    public void Chunk_file_header_is_16_bytes_with_magic_BKYC()
    {
        Assert.That(ChunkFileFormat.HeaderSize, Is.EqualTo(16));
        Assert.That(ChunkFileFormat.Magic.ToArray(), Is.EqualTo("BKYC"u8.ToArray()));
        var scratch = new byte[ChunkStore.ScratchSize];
        var length = ChunkStore.Encode(new byte[100], scratch, ChunkCompression.Lz4Whole);
        Assert.That(scratch.AsSpan(0, 8).ToArray(), Is.EqualTo(new byte[] { (byte)'B', (byte)'K', (byte)'Y', (byte)'C', 1, ChunkFileFormat.EncodingLz4, 0, 0 }));
        Assert.That(BitConverter.ToInt32(scratch, 8), Is.EqualTo(100));
        Assert.That(BitConverter.ToInt32(scratch, 12), Is.EqualTo(length - 16));
    }

    [Test]
    public void Chunk_map_header_is_64_bytes_and_entries_16()
    {
        var map = new ChunkMap(Blocks.Size + 1);
        map.Entries[0] = ChunkId.Of("x"u8);
        var bytes = ChunkMapWriter.Serialize(map);
        Assert.That(ChunkMapFormat.HeaderSize, Is.EqualTo(64));
        Assert.That(bytes, Has.Length.EqualTo(64 + 2 * 16 + 8));
        Assert.That(bytes.AsSpan(0, 8).ToArray(), Is.EqualTo("BKYCMAP1"u8.ToArray()));
        Assert.That(BitConverter.ToInt64(bytes, 24), Is.EqualTo(Blocks.Size + 1L));
        Assert.That(BitConverter.ToInt64(bytes, 32), Is.EqualTo(2));
        Assert.That(bytes.AsSpan(64 + 16, 16).ToArray(), Is.All.EqualTo(0), "second block is a hole");
    }

    [Test]
    public void Chunk_id_hex_is_canonical_big_endian_xxh128()
    {
        // xxh128 of the empty input, as printed by `xxhsum -H2`.
        Assert.That(ChunkId.Of([]).ToString(), Is.EqualTo("99aa06d3014798d86001c324468d497f"));
    }
}
