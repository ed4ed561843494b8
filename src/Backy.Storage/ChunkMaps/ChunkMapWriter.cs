using System.Buffers.Binary;
using System.IO.Hashing;
using Backy.Storage.IO;

namespace Backy.Storage.ChunkMaps;

/// <summary>Writes a <see cref="ChunkMap"/> atomically (temp, fsync, rename, fsync dir).</summary>
public static class ChunkMapWriter
{
    public static byte[] Serialize(ChunkMap map)
    {
        var bytes = new byte[ChunkMapFormat.FileSize(map.BlockCount)];
        var span = bytes.AsSpan();
        ChunkMapFormat.Magic.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], ChunkMapFormat.Version);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], ChunkMapFormat.HeaderSize);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], map.BlockSize);
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], ChunkMapFormat.EntrySize);
        BinaryPrimitives.WriteInt64LittleEndian(span[24..], map.ImageSize);
        BinaryPrimitives.WriteInt64LittleEndian(span[32..], map.BlockCount);
        var entries = span[ChunkMapFormat.HeaderSize..];
        for (var i = 0; i < map.Entries.Length; i++)
            map.Entries[i].Write(entries.Slice(i * ChunkMapFormat.EntrySize, ChunkMapFormat.EntrySize));
        var body = bytes.Length - ChunkMapFormat.TrailerSize;
        BinaryPrimitives.WriteUInt64LittleEndian(span[body..], XxHash64.HashToUInt64(span[..body]));
        return bytes;
    }

    public static void Write(string path, ChunkMap map, UnixFileMode? mode = null) =>
        DurableFile.WriteAllBytes(path, Serialize(map), mode);
}
