using System.Buffers.Binary;

namespace Backy.Storage.Legacy;

/// <summary>
/// The framing of python-lzo's <c>lzo.compress</c>, in which the Python backy stores chunks:
/// one byte 0xf0 (level 1, LZO1X-1) or 0xf1 (level 9, LZO1X-999), the uncompressed length as a
/// big-endian u32, then the LZO1X stream. Both levels decompress with the same LZO1X decoder.
/// </summary>
public static class PythonLzo
{
    // Frozen by python-lzo.
    private const byte HeaderLevel1 = 0xf0;
    private const byte HeaderLevel9 = 0xf1;
    private const int HeaderSize = 5;

    /// <summary>
    /// Decompresses one python-lzo frame. A declared length above <paramref name="maxLength"/> is
    /// rejected before anything is allocated, so a corrupt header cannot ask for gigabytes.
    /// </summary>
    public static byte[] Decompress(ReadOnlySpan<byte> frame, int maxLength)
    {
        var output = new byte[DeclaredLength(frame, maxLength)];
        Lzo1xDecompressor.Decompress(frame[HeaderSize..], output);
        return output;
    }

    /// <summary>Decompresses into <paramref name="destination"/>, whose length is the limit; returns the length.</summary>
    public static int Decompress(ReadOnlySpan<byte> frame, Span<byte> destination)
    {
        var length = DeclaredLength(frame, destination.Length);
        Lzo1xDecompressor.Decompress(frame[HeaderSize..], destination[..length]);
        return length;
    }

    private static int DeclaredLength(ReadOnlySpan<byte> frame, int maxLength)
    {
        if (frame.Length < HeaderSize)
            throw new LzoException($"python-lzo frame of {frame.Length} bytes is shorter than its 5-byte header");
        if (frame[0] != HeaderLevel1 && frame[0] != HeaderLevel9)
            throw new LzoException($"python-lzo frame starts with 0x{frame[0]:x2}, expected 0xf0 or 0xf1");
        var length = BinaryPrimitives.ReadUInt32BigEndian(frame[1..]);
        if (length > (uint)maxLength)
            throw new LzoException($"python-lzo frame declares {length} bytes, more than the limit of {maxLength}");
        return (int)length;
    }
}
