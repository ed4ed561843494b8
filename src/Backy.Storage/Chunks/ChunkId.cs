using System.Buffers.Binary;
using System.IO.Hashing;

namespace Backy.Storage.Chunks;

/// <summary>
/// The identity of a chunk: XxHash128 of the uncompressed block, written as 32 lowercase hex
/// characters (the canonical big-endian form). Frozen: chunk file names and chunk maps depend on it.
/// </summary>
public readonly record struct ChunkId(UInt128 Value)
{
    public const int Size = 16;

    public static ChunkId Of(ReadOnlySpan<byte> block) => new(XxHash128.HashToUInt128(block));

    /// <summary>Reads the 16-byte big-endian form used in chunk maps.</summary>
    public static ChunkId Read(ReadOnlySpan<byte> source) => new(BinaryPrimitives.ReadUInt128BigEndian(source));

    public void Write(Span<byte> destination) => BinaryPrimitives.WriteUInt128BigEndian(destination, Value);

    public static ChunkId Parse(string hex)
    {
        if (!TryParse(hex, out var id))
            throw new BackyException($"invalid chunk id '{hex}': expected 32 lowercase hex characters");
        return id;
    }

    public static bool TryParse(ReadOnlySpan<char> hex, out ChunkId id)
    {
        id = default;
        if (hex.Length != 32) return false;
        foreach (var c in hex)
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        Span<byte> bytes = stackalloc byte[Size];
        if (Convert.FromHexString(hex, bytes, out _, out _) != System.Buffers.OperationStatus.Done) return false;
        id = Read(bytes);
        return true;
    }

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        Write(bytes);
        return Convert.ToHexStringLower(bytes);
    }
}
