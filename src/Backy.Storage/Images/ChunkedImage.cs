using System.Buffers;
using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;

namespace Backy.Storage.Images;

/// <summary>A revision in our format: a binary chunk map naming chunks (LZ4, zstd, raw, in parts) by XxHash128.</summary>
public sealed class ChunkedImage : IRevisionImage
{
    private readonly ChunkMap _map;
    private readonly ChunkStore _store;
    private readonly bool _deep;

    /// <param name="deep">Whole reads also check every part's checksum (verify), not only the block's name.</param>
    public ChunkedImage(ChunkMap map, ChunkStore store, string pathForErrors, bool deep = false)
    {
        _deep = deep;
        // Readers address blocks as block x 4 MiB; no other size was ever written.
        if (map.BlockSize != Blocks.Size)
            throw new BackyException($"chunk map '{pathForErrors}' has block size {map.BlockSize}, this version reads {Blocks.Size}");
        _map = map;
        _store = store;
    }

    /// <summary>The chunk map itself, for readers that work per chunk.</summary>
    public ChunkMap Map => _map;

    public long Size => _map.ImageSize;
    public long BlockCount => _map.BlockCount;
    public int LengthOf(long block) => _map.LengthOf(block);
    public bool IsHole(long block) => _map.IsHole(block);

    public StoredChunk? ChunkOf(long block) =>
        _map.IsHole(block) ? null : new StoredChunk(ChunkStoreKind.Current, _map.Entries[block]);

    public bool ReadBlock(long block, Span<byte> destination)
    {
        if (_map.IsHole(block)) return false;
        var id = _map.Entries[block];
        // Pooled: a 4 MiB decode scratch per call would be a large-object allocation per block.
        var scratch = ArrayPool<byte>.Shared.Rent(ChunkStore.ScratchSize);
        try
        {
            var n = _store.Read(id, destination, scratch, _deep);
            var expected = _map.LengthOf(block);
            if (n != expected)
                throw new ChunkCorruptedException(id, null, _store.PathOf(id), $"holds {n} bytes, the chunk map expects {expected}");
        }
        finally { ArrayPool<byte>.Shared.Return(scratch); }
        return true;
    }

    public bool MayHaveParts => true;

    public int ReadPart(long block, int partSize, int index, Span<byte> destination)
    {
        if (_map.IsHole(block)) return -1;
        return _store.ReadPart(_map.Entries[block], partSize, index, _map.LengthOf(block), destination);
    }

    public void Dispose() { }
}
