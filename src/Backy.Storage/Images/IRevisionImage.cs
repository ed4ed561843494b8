namespace Backy.Storage.Images;

/// <summary>
/// Block-wise read access to one revision's image, whatever its on-disk format (ours, or the original's
/// chunked and cowfile): the one read path of restore, verify and purge. Engines never ask which format
/// they have; they open the image with <see cref="RevisionImages.Open"/> and read blocks.
/// Implementations are thread-safe: blocks may be read in parallel.
/// </summary>
public interface IRevisionImage : IDisposable
{
    long Size { get; }
    long BlockCount { get; }

    /// <summary>Length of the block: the block size, less for the last one.</summary>
    int LengthOf(long block);

    /// <summary>True when the block is zeros that are not stored: reading it costs nothing.</summary>
    bool IsHole(long block);

    /// <summary>
    /// The stored chunk that holds the block, or null for a hole and for a format without chunks (cowfile,
    /// where every block is its own data). Blocks with the same chunk read the same bytes, so a caller that
    /// has read (checked, cached) one of them need not read the others; purge keeps what this names.
    /// </summary>
    StoredChunk? ChunkOf(long block);

    /// <summary>
    /// Reads the block into <paramref name="destination"/>[..LengthOf(block)]. <paramref name="destination"/>
    /// must hold a full block (4 MiB). Returns false, leaving it untouched, when the block is a hole (zeros).
    /// Throws <see cref="Chunks.ChunkCorruptedException"/> when stored data fails its check (the exception
    /// names the chunk file), <see cref="BackyException"/> when the image cannot be read otherwise.
    /// </summary>
    bool ReadBlock(long block, Span<byte> destination);

    /// <summary>
    /// Reads part <paramref name="index"/> (of <paramref name="partSize"/> bytes) of a data block into
    /// <paramref name="destination"/> when the block's chunk is stored in such parts, each checked alone
    /// (<see cref="Chunks.ChunkParts"/>); returns its length, or -1 when the block can only be read whole
    /// (<see cref="ReadBlock"/>). Throws as <see cref="ReadBlock"/> does. Formats without parts need not implement it.
    /// </summary>
    int ReadPart(long block, int partSize, int index, Span<byte> destination) => -1;

    /// <summary>False when no block can be read in parts (<see cref="ReadPart"/> is always -1): readers need not try.</summary>
    bool MayHaveParts => false;
}
