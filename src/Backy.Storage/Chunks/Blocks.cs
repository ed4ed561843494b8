namespace Backy.Storage.Chunks;

/// <summary>The block geometry of images. Frozen: chunk maps record it, but only this size is written.</summary>
public static class Blocks
{
    /// <summary>4 MiB: large enough that per-chunk overhead (a file, a map entry) is negligible, small
    /// enough that a 4 KiB change costs one 4 MiB chunk and memory stays bounded.</summary>
    public const int Size = 4 * 1024 * 1024;

    public static long CountFor(long imageSize, int blockSize = Size) => (imageSize + blockSize - 1) / blockSize;

    public static int LengthOf(long blockIndex, long imageSize, int blockSize = Size) =>
        (int)Math.Min(blockSize, imageSize - blockIndex * blockSize);

    public static bool IsAllZero(ReadOnlySpan<byte> data) => !data.ContainsAnyExcept((byte)0);
}
