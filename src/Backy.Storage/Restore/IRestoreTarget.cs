namespace Backy.Storage.Restore;

/// <summary>
/// Where a restore writes when the target is not one Storage opens itself: an RBD image (Backy.Sources:
/// <c>RbdRestoreTarget</c>) or, for a changed-blocks restore, an existing file or block device
/// (<see cref="FileRestoreTarget"/>). Storage knows nothing of what is behind it. Call order: <see cref="PrepareAsync"/>
/// once, then reads and writes (from several threads at once, at most <see cref="Concurrency"/> at a time), then
/// <see cref="FlushAsync"/>; offsets are block-aligned, lengths whole blocks (shorter only at the image's end).
/// </summary>
public interface IRestoreTarget : IAsyncDisposable
{
    /// <summary>Names the target in messages and logs (<c>rbd:pool/vm1</c>, <c>/dev/vdb</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Makes the target hold exactly <paramref name="size"/> bytes: creates it, or resizes it (an RBD image; a
    /// regular file), or checks it is large enough (a block device, which keeps what lies beyond).
    /// </summary>
    Task PrepareAsync(long size, CancellationToken cancellationToken);

    /// <summary>True when what was never written reads as zeroes (an image this restore created): holes cost nothing.</summary>
    bool UnwrittenReadsAsZeroes { get; }

    /// <summary>How many reads or writes the engine keeps in flight: more than the cores for a network target.</summary>
    int Concurrency { get; }

    /// <summary>
    /// Writes <paramref name="data"/>. The task completes when the write is done and the buffer free again (librbd
    /// sends from it without a copy); the caller keeps the buffer untouched until then and may have up to
    /// <see cref="Concurrency"/> writes pending at once.
    /// </summary>
    ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Makes <paramref name="length"/> bytes at <paramref name="offset"/> read as zeroes (discarded where the target can).</summary>
    ValueTask WriteZeroesAsync(long offset, int length, CancellationToken cancellationToken);

    /// <summary>Reads the target's current content (a changed-blocks restore compares it); fewer bytes only at its end.</summary>
    ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Waits for every write and makes them durable (fsync, rbd flush). A failed write surfaces here at the latest.</summary>
    Task FlushAsync(CancellationToken cancellationToken);
}
