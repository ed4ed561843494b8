namespace Backy.Storage.Backup;

/// <summary>
/// A frozen, consistent view of the source for one backup. Two ways to read it:
/// <list type="number">
/// <item>Full: <see cref="OpenFullReadAsync"/> streams the whole image sequentially (a file; <c>rbd export</c> into a
/// pipe). The engine hashes every block; a block whose hash equals the parent's entry costs nothing more.</item>
/// <item>Diff: <see cref="OpenDiffAsync"/> returns the changes since the parent revision as sorted extents
/// (<c>rbd export-diff --from-snap backy-&lt;parent&gt;</c>). The engine patches them onto the parent's blocks; untouched
/// blocks are not read at all.</item>
/// </list>
/// Plus random access (<see cref="ReadAtAsync"/>) for the verification after the backup.
/// </summary>
public interface ISourceSnapshot : IAsyncDisposable
{
    /// <summary>Image size in bytes at this snapshot.</summary>
    long Size { get; }

    /// <summary>
    /// Which blocks the post-backup verification reads: <see cref="VerificationPolicy.Full"/> for a file,
    /// <see cref="VerificationPolicy.Sampled"/> (1 %, at least one block, at most 5 minutes) for Ceph.
    /// </summary>
    VerificationPolicy Verification { get; }

    /// <summary>
    /// The changes since <see cref="SnapshotRequest.ParentRevisionId"/>, or null when the source cannot diff
    /// (no parent, parent snapshot gone, <c>full-always</c>, <see cref="SnapshotRequest.AllowDiff"/> false, or a
    /// source that never diffs, like <c>file</c>). Null makes the engine do a full read.
    /// </summary>
    Task<ISourceDiff?> OpenDiffAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The whole image from offset 0, read sequentially; the engine reads exactly <see cref="Size"/> bytes and
    /// treats an early end as an error. The engine disposes the stream. The engine asks only a source without
    /// <see cref="ParallelFullRead"/>: one that reads positionally (a file) need not implement it.
    /// </summary>
    Task<Stream> OpenFullReadAsync(CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{GetType().Name} is read with positional reads only (ParallelFullRead)");

    /// <summary>
    /// Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/> (fewer only at the end of the image);
    /// returns the count. Used for verification; may be called from several threads at once.
    /// </summary>
    ValueTask<int> ReadAtAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>
    /// Asks the source, now, which blocks are wholly holes (read as zeroes): the file system's SEEK_DATA/SEEK_HOLE
    /// for a file. The engine maps those blocks as holes without reading them, in the full read and again in the
    /// post-backup verification (which asks afresh, so data written into a hole meanwhile is still found). Null
    /// (the default) when the source cannot tell: every block is read. Only the parallel full read
    /// (<see cref="ParallelFullRead"/>) skips blocks; a sequential stream is read whole.
    /// </summary>
    ValueTask<KnownHoles?> FindHolesAsync(CancellationToken cancellationToken) => ValueTask.FromResult<KnownHoles?>(null);

    /// <summary>
    /// True when <see cref="ReadAtAsync"/> is as cheap as the sequential stream and safe on several threads (a
    /// local file): the engine then reads the full image with parallel positional reads, which spreads the
    /// page-cache copies over all cores. False (the default) for pipes such as <c>rbd export</c>.
    /// </summary>
    bool ParallelFullRead => false;

    /// <summary>
    /// With <see cref="ParallelFullRead"/>: how many blocks the parallel full read keeps in flight, when more
    /// than one per worker. A network source whose reads wait on round trips (librbd) asks for more than the
    /// cores; 0 (the default) means one per worker.
    /// </summary>
    int FullReadConcurrency => 0;

    /// <summary>
    /// Called once the revision's data are stored (every chunk committed), before the chunk map is written and the
    /// verification runs. A source may start, in the background, cleanup that success needs anyway and that costs
    /// only time if the backup fails after all. <see cref="CompleteAsync"/> waits for it. The default does nothing.
    /// </summary>
    void DataStored() { }

    /// <summary>
    /// Called exactly once when the backup is over. <paramref name="success"/> true: the revision is complete
    /// (Ceph: keep this snapshot, delete older <c>backy-*</c> ones). False: it was removed (Ceph: delete this
    /// snapshot, keep the parent's so the next diff still works).
    /// </summary>
    Task CompleteAsync(bool success, CancellationToken cancellationToken);
}
