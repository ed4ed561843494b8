using Backy.Storage.Images;

namespace Backy.Storage.Reading;

/// <summary>
/// What a cached decoded block is: a stored chunk (shared by every revision that names it, whatever its store),
/// or, for a format without chunks (the original's cowfile), one block of one revision.
/// </summary>
public readonly record struct BlockKey(StoredChunk? Chunk, string? Revision, long Block)
{
    public static BlockKey Of(StoredChunk chunk) => new(chunk, null, 0);

    public static BlockKey Unchunked(string revision, long block) => new(null, revision, block);

    public override string ToString() => Chunk?.ToString() ?? $"{Revision}/block {Block}";
}
