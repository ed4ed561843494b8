using Backy.Storage.Chunks;

namespace Backy.Storage.Backup;

/// <summary>
/// The blocks of a snapshot that its source knows to be holes (they read as zeroes) without reading them: the
/// file system's SEEK_DATA/SEEK_HOLE answer for a file. A source reports hole extents in bytes; only blocks
/// that lie wholly inside one are kept, so a block with any byte of data is always read. One bit per block:
/// 64 KiB for a 2 TiB image, whatever its extents look like.
/// </summary>
public sealed class KnownHoles
{
    private readonly ulong[] _bits;

    public long ImageSize { get; }
    public int BlockSize { get; }
    public long BlockCount { get; }

    /// <summary>Blocks marked as holes so far.</summary>
    public long Count { get; private set; }

    public KnownHoles(long imageSize, int blockSize = Blocks.Size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(imageSize);
        ImageSize = imageSize;
        BlockSize = blockSize;
        BlockCount = Blocks.CountFor(imageSize, blockSize);
        _bits = new ulong[(BlockCount + 63) / 64];
    }

    /// <summary>
    /// Marks the blocks that lie wholly inside the byte range [offset, offset + length) as holes. The last block of
    /// the image counts as whole when the range reaches the end of the image.
    /// </summary>
    public void AddHole(long offset, long length)
    {
        if (length <= 0) return;
        var end = Math.Min(ImageSize, offset + length);
        var first = (Math.Max(0, offset) + BlockSize - 1) / BlockSize;
        var last = end == ImageSize ? BlockCount : end / BlockSize; // exclusive
        for (var block = first; block < last; block++)
        {
            ref var word = ref _bits[block >> 6];
            var bit = 1UL << (int)(block & 63);
            if ((word & bit) != 0) continue;
            word |= bit;
            Count++;
        }
    }

    public bool IsHole(long block) => block >= 0 && block < BlockCount && (_bits[block >> 6] & (1UL << (int)(block & 63))) != 0;
}
