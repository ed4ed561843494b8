using Backy.Storage.Chunks;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Copies;

/// <summary>
/// Removes chunk objects no revision of the copy needs (mark and sweep without locks; the reasoning is in the
/// Storage README, "Purging a copy"):
/// 1. list the chunk objects (with their upload times) FIRST;
/// 2. then mark every chunk named by a visible revision's chunk map and by every pending map (copies in progress);
/// 3. sweep listed chunks that are unmarked AND older than the grace period.
/// A chunk uploaded after step 1 is not in the listing; one uploaded shortly before it is protected by the grace
/// period, and the pending map a copy writes before it uploads or relies on any chunk pins the rest. Runs inside
/// `backy copy` under the job's copy lock, so no copy from this server runs at the same time. Any map that cannot
/// be read stops the purge before anything is deleted.
/// </summary>
public sealed class CopyPurge(CopyRepository copy, ILogger logger, TimeProvider time)
{
    /// <summary>A day: far longer than any upload of one chunk takes, so a chunk that is being relied on by a copy
    /// that started before our listing (and has not written its pending map yet) is never young and unmarked.</summary>
    public static readonly TimeSpan DefaultGrace = TimeSpan.FromDays(1);

    public async Task<int> PurgeAsync(TimeSpan grace, CancellationToken cancellationToken)
    {
        var listed = new List<StoredObject>();
        await foreach (var o in copy.Store.ListAsync(copy.JobPrefix + CopyLayout.ChunksPrefix, recursive: true, cancellationToken).ConfigureAwait(false))
            listed.Add(o);
        var now = time.GetUtcNow();

        var maps = (await copy.ListRevisionIdsAsync(cancellationToken).ConfigureAwait(false)).Select(CopyLayout.ChunkMap).ToList();
        await foreach (var o in copy.Store.ListAsync(copy.JobPrefix + CopyLayout.PendingPrefix, recursive: true, cancellationToken).ConfigureAwait(false))
            maps.Add(o.Key[copy.JobPrefix.Length..]);
        var marked = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in maps)
        {
            var map = await copy.ReadChunkMapAtAsync(key, cancellationToken).ConfigureAwait(false); // throws: nothing swept
            foreach (var id in map.ReferencedChunks()) marked.Add(copy.Cipher.ChunkName(id));
        }

        var removed = 0;
        foreach (var o in listed)
        {
            var relative = o.Key[copy.JobPrefix.Length..];
            if (CopyLayout.ChunkNameOf(relative) is not { } name || marked.Contains(name) || now - o.LastModified < grace) continue;
            await copy.DeleteAsync(relative, cancellationToken).ConfigureAwait(false);
            removed++;
        }
        logger.CopyPurged(copy.Url, removed, listed.Count - removed);
        return removed;
    }
}
