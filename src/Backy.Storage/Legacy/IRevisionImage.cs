namespace Backy.Storage.Legacy;

/// <summary>
/// Block-wise read access to one revision's image, whatever its on-disk format. The seam through
/// which restore and verify read a revision that `upgrade` has not converted yet.
/// Implementations are thread-safe: blocks may be read in parallel.
/// </summary>
public interface IRevisionImage : IDisposable
{
    long Size { get; }
    long BlockCount { get; }

    /// <summary>Length of the block: the block size, less for the last one.</summary>
    int LengthOf(long block);

    /// <summary>
    /// Reads the block into <paramref name="destination"/>[..LengthOf(block)]. <paramref name="destination"/>
    /// must hold a full block (4 MiB). Returns false, leaving it untouched, when the block is a hole (zeros).
    /// Throws <see cref="Chunks.ChunkCorruptedException"/> when stored data fails its check.
    /// </summary>
    bool ReadBlock(long block, Span<byte> destination);
}
