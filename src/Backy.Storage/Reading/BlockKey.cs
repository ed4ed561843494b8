using Backy.Storage.Images;

namespace Backy.Storage.Reading;

/// <summary>
/// What a cached decoded block is: a stored chunk (shared by every revision that names it, whatever its store),
/// one part of a chunk stored in parts (<see cref="Part"/> &gt;= 0), or, for a format without chunks (the
/// original's cowfile), one block of one revision.
/// </summary>
public readonly record struct BlockKey(StoredChunk? Chunk, string? Revision, long Block, int Part = -1)
{
    public static BlockKey Of(StoredChunk chunk) => new(chunk, null, 0);

    public static BlockKey PartOf(StoredChunk chunk, int part) => new(chunk, null, 0, part);

    public static BlockKey Unchunked(string revision, long block) => new(null, revision, block);

    /// <summary>The whole block this part belongs to (itself when it is one).</summary>
    public BlockKey Whole => this with { Part = -1 };

    public override string ToString() => (Chunk?.ToString() ?? $"{Revision}/block {Block}") + (Part >= 0 ? $" part {Part}" : "");
}
