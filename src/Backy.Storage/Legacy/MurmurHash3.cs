using System.Buffers.Binary;
using System.Numerics;

namespace Backy.Storage.Legacy;

/// <summary>
/// MurmurHash3 x64 128-bit (Austin Appleby's reference <c>MurmurHash3_x64_128</c>), the chunk identity
/// of the Python backy 2.x. It names chunks <c>hexlify(mmh3.hash_bytes(data))</c>: the 16 output bytes
/// are h1 then h2, each little-endian, written as 32 lowercase hex characters.
/// No maintained NuGet package provides it, and it is 60 lines.
/// </summary>
public static class MurmurHash3
{
    private const ulong C1 = 0x87c37b91114253d5UL;
    private const ulong C2 = 0x4cf5ad432745937fUL;

    /// <summary>The 16 hash bytes in the order of the reference implementation's output buffer.</summary>
    public static void Hash128(ReadOnlySpan<byte> data, Span<byte> destination, uint seed = 0)
    {
        if (destination.Length < 16)
            throw new ArgumentException("destination must hold 16 bytes", nameof(destination));

        ulong h1 = seed;
        ulong h2 = seed;
        var blocks = data.Length / 16;
        for (var i = 0; i < blocks; i++)
        {
            var k1 = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i * 16, 8));
            var k2 = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i * 16 + 8, 8));

            h1 ^= MixK1(k1);
            h1 = BitOperations.RotateLeft(h1, 27);
            h1 += h2;
            h1 = h1 * 5 + 0x52dce729;

            h2 ^= MixK2(k2);
            h2 = BitOperations.RotateLeft(h2, 31);
            h2 += h1;
            h2 = h2 * 5 + 0x38495ab5;
        }

        var tail = data[(blocks * 16)..];
        ulong t1 = 0;
        ulong t2 = 0;
        // Same byte order as the reference's fall-through switch: tail[i] lands at bit 8*i of its word.
        for (var i = tail.Length - 1; i >= 8; i--)
            t2 = (t2 << 8) | tail[i];
        for (var i = Math.Min(tail.Length, 8) - 1; i >= 0; i--)
            t1 = (t1 << 8) | tail[i];
        if (tail.Length > 8)
            h2 ^= MixK2(t2);
        if (tail.Length > 0)
            h1 ^= MixK1(t1);

        h1 ^= (ulong)data.Length;
        h2 ^= (ulong)data.Length;
        h1 += h2;
        h2 += h1;
        h1 = FMix64(h1);
        h2 = FMix64(h2);
        h1 += h2;
        h2 += h1;

        BinaryPrimitives.WriteUInt64LittleEndian(destination, h1);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], h2);
    }

    /// <summary>The chunk name the Python backy gives these bytes: 32 lowercase hex characters.</summary>
    public static string HexDigest(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[16];
        Hash128(data, hash);
        return Convert.ToHexStringLower(hash);
    }

    private static ulong MixK1(ulong k1)
    {
        k1 *= C1;
        k1 = BitOperations.RotateLeft(k1, 31);
        return k1 * C2;
    }

    private static ulong MixK2(ulong k2)
    {
        k2 *= C2;
        k2 = BitOperations.RotateLeft(k2, 33);
        return k2 * C1;
    }

    private static ulong FMix64(ulong k)
    {
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdUL;
        k ^= k >> 33;
        k *= 0xc4ceb9fe1a85ec53UL;
        k ^= k >> 33;
        return k;
    }
}
