using System.Buffers.Binary;
using System.IO.Hashing;
using Backy.Storage.Chunks;

namespace Backy.Storage.ChunkMaps;

/// <summary>Reads and checks a chunk map file written by <see cref="ChunkMapWriter"/>.</summary>
public static class ChunkMapReader
{
    public static ChunkMap Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new BackyException($"chunk map '{path}' is missing"); }
        return Parse(bytes, path);
    }

    /// <summary>True when the file starts with our chunk map magic (readable or not beyond that); false when it is
    /// missing, unreadable or something else (an old-format map or image).</summary>
    public static bool IsOurFormat(string path)
    {
        Span<byte> head = stackalloc byte[8];
        try
        {
            using var f = File.OpenHandle(path);
            return RandomAccess.Read(f, head, 0) == head.Length && head.SequenceEqual(ChunkMapFormat.Magic);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    public static ChunkMap Parse(ReadOnlySpan<byte> bytes, string pathForErrors)
    {
        BackyException Bad(string reason) => new($"chunk map '{pathForErrors}' is corrupt - {reason}");
        if (bytes.Length < ChunkMapFormat.HeaderSize + ChunkMapFormat.TrailerSize) throw Bad("truncated header");
        if (!bytes[..8].SequenceEqual(ChunkMapFormat.Magic)) throw Bad("bad magic");
        var version = BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]);
        if (version != ChunkMapFormat.Version) throw Bad($"unknown format version {version}");
        var headerSize = BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
        var blockSize = BinaryPrimitives.ReadInt32LittleEndian(bytes[16..]);
        var entrySize = BinaryPrimitives.ReadInt32LittleEndian(bytes[20..]);
        var imageSize = BinaryPrimitives.ReadInt64LittleEndian(bytes[24..]);
        var blockCount = BinaryPrimitives.ReadInt64LittleEndian(bytes[32..]);
        if (headerSize != ChunkMapFormat.HeaderSize || entrySize != ChunkMapFormat.EntrySize) throw Bad("unexpected header or entry size");
        if (blockSize <= 0 || imageSize < 0 || blockCount != Blocks.CountFor(imageSize, blockSize)) throw Bad("inconsistent geometry");
        if (bytes.Length != ChunkMapFormat.FileSize(blockCount)) throw Bad($"length {bytes.Length} does not match {blockCount} blocks");
        var body = bytes.Length - ChunkMapFormat.TrailerSize;
        if (BinaryPrimitives.ReadUInt64LittleEndian(bytes[body..]) != XxHash64.HashToUInt64(bytes[..body])) throw Bad("checksum mismatch");
        var entries = new ChunkId[blockCount];
        var raw = bytes[ChunkMapFormat.HeaderSize..body];
        for (var i = 0; i < entries.Length; i++)
            entries[i] = ChunkId.Read(raw.Slice(i * ChunkMapFormat.EntrySize, ChunkMapFormat.EntrySize));
        return new ChunkMap(imageSize, blockSize, entries);
    }
}
