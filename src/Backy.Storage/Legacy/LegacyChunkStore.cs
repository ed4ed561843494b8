using System.Buffers;
using Backy.Storage.Chunks;

namespace Backy.Storage.Legacy;

/// <summary>
/// The original's chunk files in <c>chunks/</c>: python-lzo frames named by the MurmurHash3 of their
/// content. Store v2 (a file <c>chunks/store</c> holding "v2") puts them in
/// <c>chunks/&lt;h[0:2]&gt;/&lt;hash&gt;.chunk.lzo</c>; the older v1 in <c>chunks/&lt;h[0:2]&gt;/&lt;h[2:4]&gt;/…</c>.
/// Both are read, v2 first. Reads always check the content against the name. Thread-safe.
/// </summary>
public sealed class LegacyChunkStore
{
    // A python-lzo frame of a 4 MiB block; LZO's worst-case expansion is len/16 + 64 + 3, plus the header.
    private const int MaxFrameSize = LegacyChunkMap.BlockSize + LegacyChunkMap.BlockSize / 16 + 64 + 3 + 5;

    public string Directory { get; }

    public LegacyChunkStore(string directory) => Directory = directory;

    public string V2PathOf(string hash) => Path.Combine(Directory, hash[..2], hash + LegacyFormat.ChunkExtension);

    public string V1PathOf(string hash) => Path.Combine(Directory, hash[..2], hash[2..4], hash + LegacyFormat.ChunkExtension);

    /// <summary>The existing file of the chunk, or null.</summary>
    public string? Locate(string hash)
    {
        var v2 = V2PathOf(hash);
        if (File.Exists(v2)) return v2;
        var v1 = V1PathOf(hash);
        return File.Exists(v1) ? v1 : null;
    }

    /// <summary>
    /// Reads, decompresses and checks the chunk into <paramref name="destination"/> (at most one block);
    /// returns its length. Throws <see cref="ChunkCorruptedException"/> when it is missing, undecodable or
    /// does not hash to its name.
    /// </summary>
    public int Read(string hash, Span<byte> destination)
    {
        var expected = ChunkId.Parse(hash);
        var path = Locate(hash) ?? V2PathOf(hash);
        var frame = ArrayPool<byte>.Shared.Rent(MaxFrameSize);
        try
        {
            int length;
            try
            {
                var read = ReadFile(path, frame, expected);
                length = PythonLzo.Decompress(frame.AsSpan(0, read), destination);
            }
            catch (FileNotFoundException) { throw new ChunkCorruptedException(expected, null, path, "missing"); }
            catch (DirectoryNotFoundException) { throw new ChunkCorruptedException(expected, null, path, "missing"); }
            catch (LzoException e) { throw new ChunkCorruptedException(expected, null, path, e.Message); }
            var actual = MurmurHash3.HexDigest(destination[..length]);
            if (actual != hash)
                throw new ChunkCorruptedException(expected, ChunkId.Parse(actual), path, $"content hashes to {actual}");
            return length;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private static int ReadFile(string path, byte[] buffer, ChunkId expected)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var length = RandomAccess.GetLength(handle);
        if (length > buffer.Length)
            throw new ChunkCorruptedException(expected, null, path, $"file too large ({length} bytes)");
        var read = 0;
        while (read < length)
        {
            var n = RandomAccess.Read(handle, buffer.AsSpan(read, (int)length - read), read);
            if (n == 0) break;
            read += n;
        }
        return read;
    }

    /// <summary>Every legacy chunk file present (both layouts), with its hash.</summary>
    public IEnumerable<(string Hash, string Path)> EnumerateChunks()
    {
        if (!System.IO.Directory.Exists(Directory)) yield break;
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*" + LegacyFormat.ChunkExtension,
                     new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 2 }))
        {
            var name = Path.GetFileName(file);
            var hash = name[..^LegacyFormat.ChunkExtension.Length];
            if (LegacyChunkMap.IsHash(hash))
                yield return (hash, file);
        }
    }

    /// <summary>Deletes the chunk's file in whichever layout it is; true when one was there.</summary>
    public bool Delete(string hash)
    {
        var path = Locate(hash);
        if (path is null) return false;
        File.Delete(path);
        return true;
    }
}
