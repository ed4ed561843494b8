using System.IO.Enumeration;
using Backy.Storage.Chunks;
using Backy.Storage.Images;
using Backy.Storage.Legacy;

namespace Backy.Storage.Space;

/// <summary>
/// The chunk files of a job directory with their sizes from the file system: ours (<c>chunks/xx/&lt;id&gt;</c>) and
/// the original's (<c>chunks/xx[/yy]/&lt;hash&gt;.chunk.lzo</c>), temp files excluded. The one definition of "bytes
/// on disk" of a job: <c>status</c>, the daemon's <c>client jobs</c> Stored column and the
/// <c>backy_job_stored_bytes</c> metric all read it.
/// </summary>
public static class ChunkFiles
{
    static readonly EnumerationOptions Walk = new()
    {
        RecurseSubdirectories = true,
        MaxRecursionDepth = 2, // chunks/xx/ (ours, store v2), chunks/xx/yy/ (the original's store v1)
        IgnoreInaccessible = true,
        AttributesToSkip = 0,
    };

    /// <summary>Bytes of every chunk file (what a purge can free or keep; nothing else in <c>chunks/</c>).</summary>
    public static long TotalBytes(string chunkDirectory)
    {
        long total = 0;
        foreach (var (_, length) in Enumerate(chunkDirectory)) total += length;
        return total;
    }

    /// <summary>Every chunk file's identity and size, one directory walk (readdir + stat per file).</summary>
    public static Dictionary<StoredChunk, long> Sizes(string chunkDirectory)
    {
        var sizes = new Dictionary<StoredChunk, long>();
        foreach (var (chunk, length) in Enumerate(chunkDirectory)) sizes[chunk] = length;
        return sizes;
    }

    static IEnumerable<(StoredChunk Chunk, long Length)> Enumerate(string chunkDirectory)
    {
        if (!Directory.Exists(chunkDirectory)) return [];
        return new FileSystemEnumerable<(StoredChunk, long)>(chunkDirectory,
            (ref FileSystemEntry e) => (Identify(e.FileName, out var chunk) ? chunk : default, e.Length), Walk)
        {
            // A file purged between readdir and stat is skipped by the enumerator (ENOENT), not an error.
            ShouldIncludePredicate = (ref FileSystemEntry e) => !e.IsDirectory && Identify(e.FileName, out _),
        };
    }

    static bool Identify(ReadOnlySpan<char> name, out StoredChunk chunk)
    {
        chunk = default;
        if (ChunkId.TryParse(name, out var id))
        {
            chunk = new StoredChunk(ChunkStoreKind.Current, id);
            return true;
        }
        if (name.EndsWith(LegacyFormat.ChunkExtension, StringComparison.Ordinal)
            && ChunkId.TryParse(name[..^LegacyFormat.ChunkExtension.Length], out id))
        {
            chunk = new StoredChunk(ChunkStoreKind.Legacy, id);
            return true;
        }
        return false;
    }
}
