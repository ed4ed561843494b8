using Backy.Storage.Chunks;

namespace Backy.Storage.ChunkMaps;

/// <summary>
/// Which chunk holds each block of one revision's image. An entry equal to <see cref="Hole"/> marks an
/// all-zero block that is not stored. Mutable while a backup builds it; read-only once written.
/// </summary>
public sealed class ChunkMap
{
    /// <summary>Frozen: the all-zero id marks a hole. A real XxHash128 of 0 has probability 2^-128.</summary>
    public static readonly ChunkId Hole = default;

    public long ImageSize { get; }
    public int BlockSize { get; }
    public ChunkId[] Entries { get; }

    public ChunkMap(long imageSize, int blockSize = Blocks.Size)
        : this(imageSize, blockSize, new ChunkId[Blocks.CountFor(imageSize, blockSize)]) { }

    public ChunkMap(long imageSize, int blockSize, ChunkId[] entries)
    {
        if (imageSize < 0) throw new ArgumentOutOfRangeException(nameof(imageSize));
        if (entries.LongLength != Blocks.CountFor(imageSize, blockSize))
            throw new ArgumentException("entry count does not match image size", nameof(entries));
        ImageSize = imageSize;
        BlockSize = blockSize;
        Entries = entries;
    }

    public long BlockCount => Entries.LongLength;

    public bool IsHole(long block) => Entries[block] == Hole;

    public int LengthOf(long block) => Blocks.LengthOf(block, ImageSize, BlockSize);

    /// <summary>Distinct chunk ids referenced (holes excluded).</summary>
    public IEnumerable<ChunkId> ReferencedChunks()
    {
        var seen = new HashSet<ChunkId>();
        foreach (var e in Entries)
            if (e != Hole && seen.Add(e))
                yield return e;
    }
}
