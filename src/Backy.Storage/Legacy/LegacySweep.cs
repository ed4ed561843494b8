using Backy.Storage.Jobs;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Legacy;

/// <summary>
/// Deletes old chunk files that no legacy revision uses any more (left behind by an interrupted run or
/// by revisions removed since), and, once none is left, the original's store marker and empty v1
/// sub-directories. Runs under the exclusive purge lock.
/// </summary>
public static class LegacySweep
{
    public static long Run(JobDirectory job, LegacyReferences references, ILogger logger)
    {
        if (!references.IsComplete) return 0;
        var store = new LegacyChunkStore(job.Chunks.Directory);
        long deleted = 0;
        var remaining = 0;
        foreach (var (hash, path) in store.EnumerateChunks().ToList())
        {
            if (references.IsUsed(hash))
            {
                remaining++;
                continue;
            }
            File.Delete(path);
            deleted++;
        }
        if (remaining == 0 && Directory.Exists(store.Directory))
        {
            File.Delete(Path.Combine(store.Directory, "store"));
            foreach (var sub in Directory.EnumerateDirectories(store.Directory))
                foreach (var v1 in Directory.EnumerateDirectories(sub))
                    if (!Directory.EnumerateFileSystemEntries(v1).Any())
                        Directory.Delete(v1);
        }
        if (deleted > 0) UpgradeLog.Swept(logger, deleted);
        return deleted;
    }
}
