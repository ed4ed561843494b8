namespace Backy.Storage.Chunks;

/// <summary>A chunk file is missing, truncated, undecodable or its content does not hash to its name.</summary>
public sealed class ChunkCorruptedException : BackyException
{
    public ChunkId Expected { get; }
    public ChunkId? Actual { get; }
    public string Path { get; }

    public ChunkCorruptedException(ChunkId expected, ChunkId? actual, string path, string reason)
        : base($"chunk {expected} at {path} is corrupt - {reason}")
    {
        Expected = expected;
        Actual = actual;
        Path = path;
    }
}
