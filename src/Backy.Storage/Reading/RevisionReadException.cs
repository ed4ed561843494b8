namespace Backy.Storage.Reading;

/// <summary>A block of a served revision could not be read: its chunk is missing or corrupt.</summary>
public sealed class RevisionReadException(string revision, long block, long offset, BlockKey chunk, string message, Exception inner)
    : BackyException($"cannot read block {block} (offset {offset}) of revision {revision}: {message}", inner)
{
    public string Revision { get; } = revision;
    public long Block { get; } = block;
    public long Offset { get; } = offset;
    /// <summary>The chunk (or, for a cowfile, the revision's block) that failed.</summary>
    public BlockKey Chunk { get; } = chunk;
}
