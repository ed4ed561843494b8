using System.Diagnostics;
using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.Jobs;
using Backy.Storage.Locks;
using Backy.Storage.Progress;
using Backy.Storage.Revisions;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Copies;

/// <summary>
/// <c>backy copy</c>: puts every complete, trusted local revision that the copy lacks into it. Per revision:
/// its chunk map goes to <c>pending/</c> first (pins its chunks for a copy purge), then every chunk the target
/// lacks (in parallel, each read back and checked locally first, sent with its checksum), then the chunk map and
/// last the <c>.rev</c>, which is what makes the revision visible; then the pending map goes. A copy killed at
/// any point leaves no visible revision that is not whole, and the rerun resumes (chunks already there and
/// recorded are not sent again). Holds the job's shared purge lock, so no local purge deletes a chunk it reads.
/// </summary>
public sealed partial class CopyEngine
{
    /// <summary>Parallel uploads. Eight keeps a store's per-request latency hidden on a 2-core machine while
    /// memory stays at 8 x (chunk file + block + sealed object) ~ 100 MiB; 16 was slower there (bench/copy-s3.sh,
    /// 2.2-2.9 s against 1.7-2.5 s for the 231 MiB job, interleaved), the copy being CPU-bound.</summary>
    public const int DefaultParallelism = 8;

    private readonly JobDirectory _job;
    private readonly CopyTarget _target;
    private readonly CopyRepository _copy;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly int _parallelism;

    public CopyEngine(JobDirectory job, CopyTarget target, CopyRepository copy, ILogger logger, TimeProvider time, int parallelism = DefaultParallelism)
    {
        _job = job;
        _target = target;
        _copy = copy;
        _logger = logger;
        _time = time;
        _parallelism = Math.Max(1, parallelism);
    }

    /// <summary>Where the copy reports how far it is: chunk objects uploaded of those the copy lacks (counted over
    /// every revision to copy before the first upload), bytes of chunk files read and sent.</summary>
    public IProgress<OperationProgress>? Progress { get; init; }

    private ProgressCounter _progress = new("copy", null);

    /// <summary>The local record of what the target holds.</summary>
    public string RecordPath => Path.Combine(_job.Path, JobLayout.CopiesDirectoryName, _target.Name + ".chunks");

    public async Task<CopyResult> CopyAsync(CancellationToken cancellationToken)
    {
        _job.EnsureExists();
        var clock = Stopwatch.StartNew();
        using var copyLock = FileLock.TryAcquire(LockPath(), exclusive: true)
            ?? throw new JobLockedException($"cannot copy job '{_job.Path}' to {_target}: another copy to it is running");
        using var purgeLock = await JobLocks.AcquirePurgeSharedAsync(_job.Path, cancellationToken).ConfigureAwait(false);
        await _copy.OpenAsync(create: true, cancellationToken).ConfigureAwait(false);

        var there = await _copy.ListRevisionIdsAsync(cancellationToken).ConfigureAwait(false);
        // Expired from the copy by its own retention: never uploaded again.
        var expired = CopyRetention.ReadExpired(ExpiredPath);
        var todo = new List<Revision>();
        var local = _job.CompleteRevisions().Where(r => r.IsLocal).ToList();
        _copiedThrough = local.Count == 0 ? null : local.Max(r => r.Timestamp);
        foreach (var r in local.Where(r => !there.Contains(r.Id) && !expired.Contains(r.Id)))
        {
            if (Legacy.LegacyFormat.IsLegacy(r.BackendType)) _logger.CopySkipped(r.Id, "in the original's format (run upgrade first)");
            else if (r.Trust == Trust.Distrusted) _logger.CopySkipped(r.Id, "distrusted (verify it first)");
            else todo.Add(r);
        }
        await RemoveStalePendingAsync(todo, cancellationToken).ConfigureAwait(false);
        if (todo.Count == 0)
            _logger.CopyUpToDate(_copy.Url, there.Count);
        else
            await CopyRevisionsAsync(todo, there.Count, clock, cancellationToken).ConfigureAwait(false);
        return await ExpireAndPurgeAsync(todo, cancellationToken).ConfigureAwait(false);
    }

    private long _chunks, _bytes;
    private DateTimeOffset? _copiedThrough;

    private async Task CopyRevisionsAsync(List<Revision> todo, int there, Stopwatch clock, CancellationToken cancellationToken)
    {
        var maps = todo.ToDictionary(r => r.Id, r => _job.ReadChunkMap(r));
        using var record = await OpenRecordAsync(maps.Values, cancellationToken).ConfigureAwait(false);
        _progress = new ProgressCounter("copy", Progress);
        if (_progress.Enabled)
            _progress.Total = maps.Values.SelectMany(m => m.ReferencedChunks()).Distinct().LongCount(id => !record.Contains(id));
        long chunks = 0, bytes = 0;
        try
        {
            foreach (var revision in todo)
            {
                var (c, b) = await CopyRevisionAsync(revision, maps[revision.Id], record, cancellationToken).ConfigureAwait(false);
                chunks += c;
                bytes += b;
            }
        }
        finally { record.Flush(); }
        _chunks = chunks;
        _bytes = bytes;
        _logger.CopyFinished(_copy.Url, todo.Count, chunks, bytes, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The copy's own retention (when the job has a schedule), then a purge of unreferenced chunk objects.
    /// A purge that removed anything puts the chunk record in doubt: the next copy rebuilds it from a listing.</summary>
    private async Task<CopyResult> ExpireAndPurgeAsync(List<Revision> copied, CancellationToken cancellationToken)
    {
        var expired = 0;
        if (File.Exists(_job.ConfigPath) && _job.LoadConfig().Schedule is { } schedule)
            expired = (await new CopyRetention(_copy, _logger, _time, _target.ObjectLockDays)
                .ExpireAsync(schedule, ExpiredPath, cancellationToken).ConfigureAwait(false));
        var purged = await new CopyPurge(_copy, _logger, _time).PurgeAsync(PurgeGrace, cancellationToken).ConfigureAwait(false);
        if (purged > 0) File.Delete(RecordPath);
        var inCopy = (await _copy.ListRevisionIdsAsync(cancellationToken).ConfigureAwait(false)).Count;
        return new CopyResult(copied.Count, _chunks, _bytes, inCopy, expired, purged) { CopiedThrough = _copiedThrough };
    }

    /// <summary>How old an unreferenced chunk object must be before a purge removes it (<see cref="CopyPurge.DefaultGrace"/>).</summary>
    public TimeSpan PurgeGrace { get; init; } = CopyPurge.DefaultGrace;

    public string ExpiredPath => Path.Combine(_job.Path, JobLayout.CopiesDirectoryName, _target.Name + ".expired");

    /// <summary>Pending maps of revisions this copy will not finish (gone locally, expired) would pin their chunks forever.</summary>
    private async Task RemoveStalePendingAsync(List<Revision> todo, CancellationToken cancellationToken)
    {
        var keep = todo.Select(r => CopyLayout.Pending(r.Id)).ToHashSet(StringComparer.Ordinal);
        var stale = new List<string>();
        await foreach (var o in _copy.Store.ListAsync(_copy.JobPrefix + CopyLayout.PendingPrefix, recursive: true, cancellationToken).ConfigureAwait(false))
            if (!keep.Contains(o.Key[_copy.JobPrefix.Length..])) stale.Add(o.Key[_copy.JobPrefix.Length..]);
        foreach (var key in stale) await _copy.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
    }

    private string LockPath()
    {
        var dir = Path.Combine(_job.Path, JobLayout.CopiesDirectoryName);
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, _target.Name + ".lock");
    }

    /// <summary>The record, rebuilt from a listing of the target's chunks when it is in doubt.</summary>
    private async Task<ChunkPresenceRecord> OpenRecordAsync(IEnumerable<ChunkMap> maps, CancellationToken cancellationToken)
    {
        var identity = ChunkPresenceRecord.Identity(_target, _copy);
        var now = _time.GetUtcNow();
        if (ChunkPresenceRecord.TryOpen(RecordPath, identity, now) is { } record) return record;
        var names = await _copy.ListChunkNamesAsync(cancellationToken).ConfigureAwait(false);
        var wanted = maps.SelectMany(m => m.ReferencedChunks()).Distinct();
        var present = wanted.Where(id => names.Contains(_copy.Cipher.ChunkName(id))).ToList();
        _logger.CopyRecordRebuilt(_copy.Url, names.Count, present.Count);
        return ChunkPresenceRecord.Create(RecordPath, identity, now, present);
    }

    private DateTimeOffset? LockUntil() =>
        _target.ObjectLockDays > 0 ? _time.GetUtcNow() + TimeSpan.FromDays(_target.ObjectLockDays) : null;

    /// <summary>
    /// How much longer than the revision that needs it a chunk object is locked: a tenth of the lock (at least a
    /// day). Chunks are shared by the revisions after it, each of which needs them locked as long as itself; with
    /// the slack, a chunk's lock is extended once per slack period instead of once per revision (a request per
    /// chunk per daily copy), at the price of unreferenced chunks staying up to the slack longer.
    /// </summary>
    private TimeSpan ChunkLockSlack => TimeSpan.FromDays(Math.Max(1, (_target.ObjectLockDays + 9) / 10));

    private async Task<(long Chunks, long Bytes)> CopyRevisionAsync(Revision revision, ChunkMap map, ChunkPresenceRecord record, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var mapBytes = ChunkMapWriter.Serialize(map);
        var pending = CopyLayout.Pending(revision.Id);
        await _copy.PutAsync(pending, mapBytes, null, cancellationToken).ConfigureAwait(false);

        var lockUntil = LockUntil();
        DateTimeOffset? chunkLock = lockUntil is { } l ? l + ChunkLockSlack : null;
        var missing = map.ReferencedChunks().Where(id => !record.Contains(id)).ToList();
        var (chunks, bytes) = await UploadChunksAsync(missing, record, chunkLock, cancellationToken).ConfigureAwait(false);
        if (lockUntil is { } needed)
        {
            // Chunks uploaded for older revisions, locked for them: each must stay at least as long as this revision.
            var reused = map.ReferencedChunks().Where(id => !(record.RetainUntil(id) >= needed)).ToList();
            var extended = await ExtendLocksAsync(reused, needed, chunkLock!.Value, record, cancellationToken).ConfigureAwait(false);
            if (extended > 0) _logger.CopyLocksExtended(revision.Id, _copy.Url, extended, chunkLock.Value);
        }
        record.Flush();

        await _copy.PutAsync(CopyLayout.ChunkMap(revision.Id), mapBytes, lockUntil, cancellationToken).ConfigureAwait(false);
        // THE switch: from here on the revision is visible in the copy, and everything it names is there.
        await _copy.PutAsync(CopyLayout.Revision(revision.Id), System.Text.Encoding.UTF8.GetBytes(RevisionFile.Serialize(revision)), lockUntil, cancellationToken).ConfigureAwait(false);
        await _copy.DeleteAsync(pending, cancellationToken).ConfigureAwait(false);
        _logger.RevisionCopied(revision.Id, _copy.Url, chunks, bytes, clock.Elapsed.TotalSeconds);
        return (chunks, bytes);
    }
}

/// <param name="Revisions">Revisions copied by this run.</param>
/// <param name="Chunks">Chunk objects uploaded.</param>
/// <param name="Bytes">Bytes of chunk objects uploaded.</param>
/// <param name="RevisionsInCopy">Visible revisions in the copy afterwards.</param>
/// <param name="Expired">Revisions removed from the copy by its retention.</param>
/// <param name="Purged">Unreferenced chunk objects removed.</param>
public sealed record CopyResult(int Revisions, long Chunks, long Bytes, int RevisionsInCopy, int Expired = 0, int Purged = 0)
{
    /// <summary>The newest complete local revision this run considered: every one up to it is now in the copy, or
    /// skipped as never to be copied (<see cref="CopyStatusFile.CopiedThrough"/>). Null when the job has none.</summary>
    public DateTimeOffset? CopiedThrough { get; init; }
}
