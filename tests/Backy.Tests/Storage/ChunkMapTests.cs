using Backy.Storage;
using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;

namespace Backy.Tests.Storage;

public class ChunkMapTests
{
    [Test]
    public void Chunk_map_round_trips_with_holes()
    {
        var map = new ChunkMap(3L * Blocks.Size - 5);
        map.Entries[0] = ChunkId.Of("a"u8);
        map.Entries[2] = ChunkId.Of("c"u8);
        var back = ChunkMapReader.Parse(ChunkMapWriter.Serialize(map), "m");
        Assert.That(back.ImageSize, Is.EqualTo(map.ImageSize));
        Assert.That(back.Entries, Is.EqualTo(map.Entries));
        Assert.That(back.IsHole(1), Is.True);
        Assert.That(back.LengthOf(2), Is.EqualTo(Blocks.Size - 5));
    }

    [Test]
    public void Chunk_map_with_a_flipped_bit_is_rejected_by_its_checksum()
    {
        var map = new ChunkMap(Blocks.Size);
        map.Entries[0] = ChunkId.Of("a"u8);
        var bytes = ChunkMapWriter.Serialize(map);
        bytes[70] ^= 1;
        var e = Assert.Throws<BackyException>(() => ChunkMapReader.Parse(bytes, "/x/map"));
        Assert.That(e!.Message, Does.Contain("/x/map").And.Contain("checksum"));
    }

    [Test]
    public void Empty_image_has_no_entries()
    {
        var back = ChunkMapReader.Parse(ChunkMapWriter.Serialize(new ChunkMap(0)), "m");
        Assert.That(back.BlockCount, Is.Zero);
    }
}
