using Backy.Storage.IO;
using K4os.Compression.LZ4;

namespace Backy.Storage.Chunks;

/// <summary>
/// Content-addressed chunk files of one job: <c>chunks/&lt;first two hex&gt;/&lt;32 hex&gt;</c>, each with a
/// <see cref="ChunkFileFormat"/> header and an LZ4, zstd, raw or parts payload. Reads check the content against the
/// name. Writes go through a <see cref="ChunkWriteSession"/>, which batches the syncs. Thread-safe.
/// </summary>
public sealed partial class ChunkStore
{
    /// <summary>Scratch space a caller must pass to <see cref="Read"/> and the session's Write.</summary>
    public static readonly int ScratchSize = ChunkFileFormat.HeaderSize + Math.Max(
        Math.Max(LZ4Codec.MaximumOutputSize(Blocks.Size), ZstdCodec.MaxCompressedSize),
        // In parts: the largest table, every part raw, and room for zstd's bound on the last part.
        ChunkParts.MaxPayload(ChunkParts.MinPartSize) + ZstdCodec.CompressBound(ChunkParts.DefaultPartSize));

    public string Directory { get; }

    public ChunkStore(string directory)
    {
        Directory = directory;
    }

    public string PathOf(ChunkId id)
    {
        var hex = id.ToString();
        return Path.Combine(Directory, hex[..2], hex);
    }

    public bool Exists(ChunkId id) => File.Exists(PathOf(id));

    /// <summary>
    /// Reads, decodes and checks a chunk into <paramref name="destination"/>; returns its length.
    /// Throws <see cref="ChunkCorruptedException"/> when the file is missing, malformed or does not hash to its name.
    /// <paramref name="deep"/>: also check the checksum of every part of a chunk stored in parts (verify's reads);
    /// without it the block is proven by its name alone (restore's).
    /// </summary>
    public int Read(ChunkId id, Span<byte> destination, byte[] scratch, bool deep = false) => ReadCore(id, destination, scratch, record: false, deep);

    private int ReadCore(ChunkId id, Span<byte> destination, byte[] scratch, bool record, bool deep)
    {
        var path = PathOf(id);
        int length;
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var fileLength = RandomAccess.GetLength(handle);
            length = Decode(id, path, handle, fileLength, destination, scratch, deep);
            var actual = ChunkId.Of(destination[..length]);
            if (actual != id)
                throw new ChunkCorruptedException(id, actual, path, $"content hashes to {actual}");
            // scratch still holds the file's bytes: exactly what was just decoded and checked.
            if (record) ExtendedAttributes.TrySetUInt64(handle, CheckedAttribute, System.IO.Hashing.XxHash3.HashToUInt64(scratch.AsSpan(0, (int)fileLength)));
        }
        catch (FileNotFoundException) { throw new ChunkCorruptedException(id, null, path, "missing"); }
        catch (DirectoryNotFoundException) { throw new ChunkCorruptedException(id, null, path, "missing"); }
        return length;
    }

    private static int Decode(ChunkId id, string path, Microsoft.Win32.SafeHandles.SafeFileHandle handle, long fileLength, Span<byte> destination, byte[] scratch, bool deep)
    {
        if (fileLength > scratch.Length)
            throw new ChunkCorruptedException(id, null, path, $"file too large ({fileLength} bytes)");
        var file = scratch.AsSpan(0, (int)fileLength);
        var read = ReadAt(handle, file, 0);
        return DecodeImage(id, path, file[..read], destination, deep);
    }

    /// <summary>
    /// Decodes a whole chunk file image (header and payload, as read from a file or an off-site copy) into
    /// <paramref name="destination"/> and returns the block's length. Does not check the hash: callers do. Checks the
    /// parts' checksums of a chunk stored in parts when <paramref name="deep"/> (the default: copies and readers of
    /// copies check everything a later reader relies on).
    /// </summary>
    public static int DecodeImage(ChunkId id, string pathForErrors, ReadOnlySpan<byte> file, Span<byte> destination, bool deep = true)
    {
        var path = pathForErrors;
        var read = file.Length;
        var bad = ChunkFileFormat.TryReadHeader(file, out var encoding, out var length, out var payload);
        if (bad is not null)
            throw new ChunkCorruptedException(id, null, path, bad);
        if (read != ChunkFileFormat.HeaderSize + (long)payload)
            throw new ChunkCorruptedException(id, null, path, $"truncated: {read} bytes, header says {ChunkFileFormat.HeaderSize + (long)payload}");
        if (length > destination.Length)
            throw new ChunkCorruptedException(id, null, path, $"uncompressed length {length} exceeds the block size");
        var body = file.Slice(ChunkFileFormat.HeaderSize, payload);
        if (encoding == ChunkFileFormat.EncodingParts)
        {
            var problem = ChunkParts.DecodeAll(body, length, destination, checkParts: deep);
            if (problem is not null)
                throw new ChunkCorruptedException(id, null, path, problem);
            return length;
        }
        if (encoding == ChunkFileFormat.EncodingRaw)
        {
            body.CopyTo(destination);
            return length;
        }
        if (encoding == ChunkFileFormat.EncodingZstd)
        {
            var problem = ZstdCodec.Decompress(body, destination[..length]);
            if (problem is not null)
                throw new ChunkCorruptedException(id, null, path, problem);
            return length;
        }
        var decoded = LZ4Codec.Decode(body, destination[..length]);
        if (decoded != length)
            throw new ChunkCorruptedException(id, null, path, "bad LZ4 data");
        return length;
    }

    /// <summary>
    /// Encodes a block as a complete chunk file image into <paramref name="scratch"/> and returns its length:
    /// LZ4 (fast level) or zstd at the job's level (<paramref name="compression"/>, default: the default, LZ4 in parts) unless that saves
    /// less than 1/16, then raw; or, when the compression says so, in parts (<see cref="ChunkParts"/>).
    /// </summary>
    public static int Encode(ReadOnlySpan<byte> data, byte[] scratch, ChunkCompression? compression = null)
    {
        var target = scratch.AsSpan(ChunkFileFormat.HeaderSize);
        compression ??= ChunkCompression.Default;
        if (compression.InParts)
        {
            // Always in parts, even when nothing compresses: the parts' checksums are what lets a part be read alone.
            var payload = ChunkParts.Encode(data, target, compression);
            ChunkFileFormat.WriteHeader(scratch, ChunkFileFormat.EncodingParts, data.Length, payload);
            return ChunkFileFormat.HeaderSize + payload;
        }
        // Compression pays only if it saves at least 1/16: below that, raw is cheaper to read back.
        var limit = data.Length - data.Length / 16;
        var zstd = compression.Algorithm == ChunkCompression.Kind.Zstd;
        // zstd gets the whole bound (a too-small buffer is an exception, which random blocks would pay for every time).
        var compressed = data.Length < 64 ? -1
            : zstd ? ZstdCodec.Compress(data, target, compression.Level)
            : LZ4Codec.Encode(data, target[..Math.Min(target.Length, limit)], LZ4Level.L00_FAST);
        if (compressed > 0 && compressed < limit)
        {
            ChunkFileFormat.WriteHeader(scratch, zstd ? ChunkFileFormat.EncodingZstd : ChunkFileFormat.EncodingLz4, data.Length, compressed);
            return ChunkFileFormat.HeaderSize + compressed;
        }
        ChunkFileFormat.WriteHeader(scratch, ChunkFileFormat.EncodingRaw, data.Length, data.Length);
        data.CopyTo(target);
        return ChunkFileFormat.HeaderSize + data.Length;
    }

    /// <summary>Deletes a chunk file (a bad one found by verify, an unreferenced one found by purge).</summary>
    public bool Delete(ChunkId id)
    {
        var path = PathOf(id);
        if (!File.Exists(path)) return false;
        File.Delete(path);
        return true;
    }

    /// <summary>Every chunk file present, with its id; ignores temp files and foreign names.</summary>
    public IEnumerable<(ChunkId Id, string Path)> EnumerateChunks()
    {
        if (!System.IO.Directory.Exists(Directory)) yield break;
        foreach (var sub in System.IO.Directory.EnumerateDirectories(Directory))
            foreach (var file in System.IO.Directory.EnumerateFiles(sub))
                if (ChunkId.TryParse(Path.GetFileName(file.AsSpan()), out var id))
                    yield return (id, file);
    }

    /// <summary>Leftovers of interrupted writes. Only safe to delete while no backup runs (exclusive purge lock).</summary>
    public IEnumerable<string> EnumerateTempFiles()
    {
        if (!System.IO.Directory.Exists(Directory)) yield break;
        foreach (var sub in System.IO.Directory.EnumerateDirectories(Directory))
            foreach (var file in System.IO.Directory.EnumerateFiles(sub, "*" + DurableFile.TempSuffix))
                yield return file;
    }

    public ChunkWriteSession BeginWrite(bool forcedWrite, ChunkCompression? compression = null) => new(this, forcedWrite, compression ?? ChunkCompression.Default);
}
