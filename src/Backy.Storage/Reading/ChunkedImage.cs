using System.Collections.Concurrent;
using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.Legacy;

namespace Backy.Storage.Reading;

/// <summary>
/// A revision in our format as an <see cref="IRevisionImage"/>: its chunk map and the job's chunk store. Reading a
/// block decodes its chunk, checks the content against the chunk's name and the length against the map. Opening
/// costs the chunk map (16 bytes per block) and nothing else. Thread-safe.
/// </summary>
public sealed class ChunkedImage : IRevisionImage
{
    private readonly ChunkStore _store;
    // Decode scratch (4 MiB + LZ4 bound) is reused: a fresh one per read would churn the large-object heap.
    private readonly ConcurrentBag<byte[]> _scratch = [];

    public ChunkedImage(ChunkMap map, ChunkStore store)
    {
        Map = map;
        _store = store;
    }

    public ChunkMap Map { get; }
    public long Size => Map.ImageSize;
    public long BlockCount => Map.BlockCount;
    public int BlockSize => Map.BlockSize;
    public int LengthOf(long block) => Map.LengthOf(block);
    public bool IsHole(long block) => Map.IsHole(block);
    public ChunkId ChunkOf(long block) => Map.Entries[block];
    public string PathOf(long block) => _store.PathOf(Map.Entries[block]);

    public bool ReadBlock(long block, Span<byte> destination)
    {
        if (Map.IsHole(block)) return false;
        var id = Map.Entries[block];
        var expected = Map.LengthOf(block);
        if (!_scratch.TryTake(out var scratch)) scratch = GC.AllocateUninitializedArray<byte>(ChunkStore.ScratchSize);
        try
        {
            var n = _store.Read(id, destination, scratch);
            if (n != expected)
                throw new ChunkCorruptedException(id, null, _store.PathOf(id), $"holds {n} bytes, the chunk map expects {expected}");
            return true;
        }
        finally
        {
            // Keep a few: as many as decodes usually run at once, not as many as ever did.
            if (_scratch.Count < Environment.ProcessorCount + 2) _scratch.Add(scratch);
        }
    }

    public void Dispose() { }
}
