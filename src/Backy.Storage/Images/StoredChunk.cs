using Backy.Storage.Chunks;

namespace Backy.Storage.Images;

/// <summary>Which chunk store a <see cref="StoredChunk"/> lives in.</summary>
public enum ChunkStoreKind
{
    /// <summary>Ours: <c>chunks/xx/&lt;XxHash128&gt;</c> (<see cref="ChunkStore"/>).</summary>
    Current,
    /// <summary>The original's: <c>chunks/xx/&lt;MurmurHash3&gt;.chunk.lzo</c> (<see cref="Legacy.LegacyChunkStore"/>).</summary>
    Legacy,
}

/// <summary>One chunk file a revision image is read from: identity for "read once per run", caches and purge's mark.</summary>
public readonly record struct StoredChunk(ChunkStoreKind Store, ChunkId Id)
{
    public override string ToString() => Id.ToString();
}
