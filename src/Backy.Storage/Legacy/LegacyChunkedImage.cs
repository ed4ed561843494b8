using Backy.Storage.Chunks;
using Backy.Storage.Images;

namespace Backy.Storage.Legacy;

/// <summary>A revision of the original's chunked backend: JSON chunk map + LZO chunks.</summary>
public sealed class LegacyChunkedImage : IRevisionImage
{
    private readonly LegacyChunkMap _map;
    private readonly LegacyChunkStore _store;

    public LegacyChunkedImage(LegacyChunkMap map, LegacyChunkStore store)
    {
        _map = map;
        _store = store;
    }

    public long Size => _map.Size;
    public long BlockCount => _map.BlockCount;
    public int LengthOf(long block) => _map.LengthOf(block);

    /// <summary>The old chunks this revision uses.</summary>
    public IEnumerable<string> Hashes() => _map.Hashes();

    public bool IsHole(long block) => _map.HashOf(block) is null;

    public StoredChunk? ChunkOf(long block) =>
        _map.HashOf(block) is { } hash ? new StoredChunk(ChunkStoreKind.Legacy, ChunkId.Parse(hash)) : null;

    public bool ReadBlock(long block, Span<byte> destination)
    {
        var hash = _map.HashOf(block);
        if (hash is null) return false;
        var length = _store.Read(hash, destination[..LegacyChunkMap.BlockSize]);
        var needed = LengthOf(block);
        // The original refuses short chunks too ("Under-run"); a longer last chunk is cut, as it does.
        if (length < needed)
            throw new ChunkCorruptedException(ChunkId.Parse(hash), null, _store.Locate(hash) ?? _store.V2PathOf(hash),
                $"holds {length} bytes, block {block} needs {needed}");
        return true;
    }

    public void Dispose() { }
}
