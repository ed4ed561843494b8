using Backy.Storage.Images;
using Backy.Storage.Jobs;

namespace Backy.Storage.Space;

public sealed partial record JobSpace
{
    /// <summary>
    /// The job's space, from <c>chunks/.space</c> when nothing changed since it was written (<see cref="SpaceCache"/>),
    /// else computed: one walk of <c>chunks/</c> for the sizes (<see cref="ChunkFiles"/>) and one pass over every chunk
    /// map (<see cref="ChunkUsage"/>). Takes no lock: a purge running meanwhile can only make a size read as 0.
    /// </summary>
    public static JobSpace Of(JobDirectory job, RevisionScan scan, TimeProvider time, CancellationToken cancellationToken = default)
    {
        var keys = SpaceCache.KeysOf(job, scan);
        if (SpaceCache.TryRead(job, keys) is { } cached) return cached;
        var sizes = ChunkFiles.Sizes(job.Chunks.Directory);
        long stored = 0;
        foreach (var size in sizes.Values) stored += size;
        var withData = scan.Revisions.Where(r => RevisionImages.HasData(job, r)).ToList();
        var damaged = scan.Damaged.Where(d => d.Id.Length > 0 && job.HasChunkMap(d.Id)).Select(d => job.ChunkMapPath(d.Id)).ToList();
        var space = ChunkUsage.Compute(job, withData, damaged, sizes, stored, cancellationToken);
        SpaceCache.TryWrite(job, keys, space, time.GetUtcNow());
        return space;
    }

    /// <summary>
    /// Bytes of the job's chunk files: the cached total while <c>chunks/</c> is unchanged, else one walk. For callers
    /// that want only the total (the daemon's job view, metrics), without reading any chunk map.
    /// </summary>
    public static long StoredBytesOf(JobDirectory job)
    {
        var keys = SpaceCache.KeysOf(job, new RevisionScan([], []));
        return SpaceCache.TryReadStored(job, keys.Chunks) ?? ChunkFiles.TotalBytes(job.Chunks.Directory);
    }
}
