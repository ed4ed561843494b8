namespace Backy.Storage.Backup;

/// <summary>
/// The changes of a source since the parent revision, as a pull stream of extents in ascending offset
/// order that do not overlap (the records of "rbd diff v1": <c>w</c> = data, <c>z</c> = zeroed).
/// Everything outside the extents is unchanged. The image size is <see cref="ISourceSnapshot.Size"/>; blocks
/// beyond the parent's size that no extent covers are zero.
/// </summary>
public interface ISourceDiff : IAsyncDisposable
{
    /// <summary>The next extent, or null at the end. Unread data of the previous extent is skipped.</summary>
    ValueTask<DiffExtent?> ReadNextExtentAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Fills <paramref name="destination"/> completely with the next bytes of the current data extent. Call it
    /// repeatedly to consume the extent in pieces (the engine copies straight into 4 MiB block buffers).
    /// </summary>
    ValueTask ReadDataAsync(Memory<byte> destination, CancellationToken cancellationToken);
}

/// <summary>An extent of changed bytes: data to read with <see cref="ISourceDiff.ReadDataAsync"/>, or zeroes.</summary>
public readonly record struct DiffExtent(long Offset, long Length, bool IsZero);
