using System.Buffers.Binary;

namespace Backy.Storage.Chunks;

/// <summary>
/// The frozen header of a chunk file, so that a chunk file describes itself:
/// <code>
/// offset size
///  0     4   magic "BKYC"
///  4     1   format version (1)
///  5     1   encoding: 0 = raw, 1 = LZ4 block, 2 = zstd frame, 3 = parts (ChunkParts)
///  6     2   reserved, zero
///  8     4   uncompressed length (little endian)
/// 12     4   payload length (little endian)
/// 16         payload
/// </code>
/// The chunk's name (its XxHash128) checks the decoded content, so the header carries no checksum.
/// </summary>
public static class ChunkFileFormat
{
    /// <summary>Frozen.</summary>
    public const int HeaderSize = 16;
    /// <summary>Frozen: "BKYC".</summary>
    public static ReadOnlySpan<byte> Magic => "BKYC"u8;
    /// <summary>Frozen.</summary>
    public const byte Version = 1;

    public const byte EncodingRaw = 0;
    public const byte EncodingLz4 = 1;
    /// <summary>One zstd frame (RFC 8878) holding the whole block; added after version 1 was frozen, which is why
    /// the version stays 1: readers before it reject the chunk by its encoding ("unknown encoding 2"), never
    /// misread it, and every chunk they wrote is still one of encodings 0 and 1.</summary>
    public const byte EncodingZstd = 2;
    /// <summary>The block as independently compressed parts with a checksum each (<see cref="ChunkParts"/>), so
    /// that a small read decodes one part; added after version 1 was frozen, like encoding 2 and for the same
    /// reason the version stays 1 (an older reader says "unknown encoding 3").</summary>
    public const byte EncodingParts = 3;

    public static void WriteHeader(Span<byte> destination, byte encoding, int uncompressedLength, int payloadLength)
    {
        Magic.CopyTo(destination);
        destination[4] = Version;
        destination[5] = encoding;
        destination[6] = 0;
        destination[7] = 0;
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], uncompressedLength);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], payloadLength);
    }

    /// <summary>Returns null when the header is valid, else the reason it is not.</summary>
    public static string? TryReadHeader(ReadOnlySpan<byte> header, out byte encoding, out int uncompressedLength, out int payloadLength)
    {
        encoding = 0;
        uncompressedLength = payloadLength = 0;
        if (header.Length < HeaderSize) return "truncated header";
        if (!header[..4].SequenceEqual(Magic)) return "bad magic";
        if (header[4] != Version) return $"unknown format version {header[4]}";
        encoding = header[5];
        if (encoding is not (EncodingRaw or EncodingLz4 or EncodingZstd or EncodingParts)) return $"unknown encoding {encoding}";
        uncompressedLength = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        payloadLength = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
        if (uncompressedLength < 0 || payloadLength < 0) return "negative length";
        if (encoding == EncodingRaw && payloadLength != uncompressedLength) return "raw length mismatch";
        return null;
    }
}
