using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.IO;
using Backy.Storage.Images;
using Backy.Storage.Jobs;
using Backy.Storage.Locks;
using Backy.Storage.Revisions;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Purge;

/// <summary>What a purge removed.</summary>
public sealed record PurgeResult(int ReferencedChunks, int DeletedChunks, int DeletedTempFiles, int DeletedOrphanMaps);

/// <summary>
/// Mark and sweep under the exclusive purge lock (so no backup, restore or verify runs): mark every chunk
/// that any revision's chunk map references, then delete every other chunk file, the temp files of
/// interrupted writes (in the job directory only those whose writer process is gone) and chunk maps whose .rev is gone.
/// </summary>
public sealed class GarbageCollector
{
    private readonly JobDirectory _job;
    private readonly ILogger _logger;

    public GarbageCollector(JobDirectory job, ILogger logger)
    {
        _job = job;
        _logger = logger;
    }

    public async Task<PurgeResult> PurgeAsync(CancellationToken cancellationToken)
    {
        _job.EnsureExists();
        var purgeLock = JobLocks.TryAcquirePurgeExclusive(_job.Path);
        if (purgeLock is null)
        {
            _logger.PurgeWaiting();
            purgeLock = await JobLocks.AcquirePurgeExclusiveAsync(_job.Path, cancellationToken).ConfigureAwait(false);
        }
        using (purgeLock)
        {
            Legacy.LegacyPurge.Run(_job, _logger);
            var orphans = 0;
            foreach (var map in _job.OrphanChunkMaps().ToList())
            {
                File.Delete(map);
                orphans++;
            }
            var marked = new HashSet<ChunkId>();
            // Every chunk map with a .rev beside it, whatever that .rev says: every revision with data here, complete or
            // not (an incomplete one is deleted by the next backup, and until then its chunks cost nothing to keep), read
            // through its image whatever its format, and every damaged one (below).
            // Old-format chunks are the original's store, which LegacyPurge sweeps by its own references.
            var scan = _job.ScanRevisions();
            var sweep = true;
            foreach (var revision in scan.Revisions.Where(r => RevisionImages.HasData(_job, r)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                sweep &= MarkRevision(marked, revision);
            }
            // A revision being served (nbd-server) keeps its chunks even after forget/expire removed it.
            try
            {
                foreach (var pinned in RevisionPin.LiveUnderExclusivePurgeLock(_job.Path))
                    foreach (var id in pinned.Entries)
                        if (id != ChunkMap.Hole) marked.Add(id);
            }
            catch (Exception e) when (e is BackyException or IOException)
            {
                _logger.PurgeKeepsAllUnreadable(Jobs.JobLayout.PinsDirectoryName, e.Message);
                sweep = false;
            }
            // A damaged .rev still owns its chunks: damaged metadata must never cost data.
            sweep &= MarkDamaged(scan.Damaged, marked);
            var deleted = 0;
            foreach (var (id, path) in sweep ? _job.Chunks.EnumerateChunks().ToList() : [])
            {
                if (marked.Contains(id)) continue;
                File.Delete(path);
                deleted++;
            }
            var temps = 0;
            foreach (var temp in _job.Chunks.EnumerateTempFiles().ToList())
            {
                File.Delete(temp);
                temps++;
            }
            // Beside the job's files, in chunks/ itself (the space cache) and in copies/ (records, status): writers
            // there hold no purge lock, so only a dead writer's temp file goes.
            var tempDirectories = new[] { _job.Path, _job.Chunks.Directory, Path.Combine(_job.Path, JobLayout.CopiesDirectoryName) };
            foreach (var temp in tempDirectories.SelectMany(AbandonedTempFiles).ToList())
            {
                File.Delete(temp);
                temps++;
            }
            if (deleted + temps + orphans > 0) DurableFile.SyncFileSystem(_job.Path);
            _logger.Purged(marked.Count, deleted, temps, orphans);
            return new PurgeResult(marked.Count, deleted, temps, orphans);
        }
    }

    private static IEnumerable<string> AbandonedTempFiles(string directory) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "*" + DurableFile.TempSuffix).Where(DurableFile.IsAbandonedTemp)
            : [];

    /// <summary>
    /// Marks what the revision's image names. False (sweep nothing) when it cannot be read: its chunks are then
    /// unknown, and an unreferenced chunk may be one of them.
    /// </summary>
    private bool MarkRevision(HashSet<ChunkId> marked, Revision revision)
    {
        try
        {
            using var image = RevisionImages.Open(_job, revision);
            for (long block = 0; block < image.BlockCount; block++)
                if (image.ChunkOf(block) is { Store: ChunkStoreKind.Current } chunk)
                    marked.Add(chunk.Id);
            return true;
        }
        catch (BackyException e)
        {
            _logger.PurgeKeepsAllUnreadable(revision.Id, e.Message);
            return false;
        }
    }

    private static void Mark(HashSet<ChunkId> marked, string chunkMapPath)
    {
        foreach (var id in ChunkMapReader.Read(chunkMapPath).Entries)
            if (id != ChunkMap.Hole) marked.Add(id);
    }

    /// <summary>
    /// Marks the chunks of revisions whose .rev is damaged. False (sweep nothing) when such a revision's chunk
    /// map exists but cannot be read: its chunks are then unknown, and an unreferenced chunk may be one of them.
    /// Any file name counts (a damaged .rev's name need not be a well-formed id).
    /// </summary>
    private bool MarkDamaged(IReadOnlyList<DamagedRevision> damaged, HashSet<ChunkId> marked)
    {
        var sweep = true;
        foreach (var bad in damaged.Where(d => d.Id.Length > 0 && _job.HasChunkMap(d.Id)))
        {
            var map = _job.ChunkMapPath(bad.Id);
            try { Mark(marked, map); }
            catch (Exception e) when (e is BackyException or IOException)
            {
                _logger.PurgeKeepsAll(bad.Reason, map, e.Message);
                sweep = false;
            }
        }
        return sweep;
    }
}
