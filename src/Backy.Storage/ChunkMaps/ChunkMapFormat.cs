namespace Backy.Storage.ChunkMaps;

/// <summary>
/// The frozen binary layout of a chunk map file (the file named like the revision id):
/// <code>
/// offset size
///  0     8   magic "BKYCMAP1"
///  8     4   format version (1), little endian
/// 12     4   header size (64)
/// 16     4   block size in bytes
/// 20     4   entry size (16)
/// 24     8   image size in bytes
/// 32     8   block count = ceil(image size / block size)
/// 40    24   reserved, zero
/// 64    16*n entries: the chunk id (XxHash128, big endian) of each block; all zero = hole
///  end   8   XxHash64 (little endian) of everything before it
/// </code>
/// A 2 TiB image has 524,288 entries: an 8 MiB file read with one call and no parsing.
/// </summary>
public static class ChunkMapFormat
{
    /// <summary>Frozen.</summary>
    public static ReadOnlySpan<byte> Magic => "BKYCMAP1"u8;
    /// <summary>Frozen.</summary>
    public const int Version = 1;
    /// <summary>Frozen.</summary>
    public const int HeaderSize = 64;
    /// <summary>Frozen.</summary>
    public const int EntrySize = 16;
    /// <summary>Frozen.</summary>
    public const int TrailerSize = 8;

    public static long FileSize(long blockCount) => HeaderSize + blockCount * EntrySize + TrailerSize;
}
