using System.Diagnostics;
using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.Jobs;
using Backy.Storage.Locks;
using Backy.Storage.Progress;
using Backy.Storage.Revisions;
using Backy.Storage.Verify;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Backup;

/// <summary>
/// Makes one revision of a job from a source: delete incomplete revisions; write the new .rev without
/// duration; read the source (full or diff) through a parallel, memory-bounded pipeline; commit chunks;
/// write the chunk map; verify against the source; set duration, make read-only, sync. Then verify the
/// newest distrusted revision, if any.
/// Split by concern: <c>.FullRead</c>, <c>.Diff</c>, <c>.SourceCheck</c>.
/// </summary>
public sealed partial class BackupEngine
{
    private readonly JobDirectory _job;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly BackupSettings _settings;

    public BackupEngine(JobDirectory job, ILogger logger, TimeProvider time, BackupSettings? settings = null)
    {
        _job = job;
        _logger = logger;
        _time = time;
        _settings = settings ?? BackupSettings.Default;
    }

    /// <summary>Where the backup reports how far it is: blocks read and verified of the image's blocks (the
    /// post-backup verification's blocks count too), bytes read from the source, bytes of new chunk files.</summary>
    public IProgress<OperationProgress>? Progress { get; init; }

    /// <summary>Runs a backup under the job's locks. Throws <see cref="BackyException"/> on any failure.</summary>
    public async Task<Revision> BackupAsync(IBackupSource source, IReadOnlyCollection<string> tags, CancellationToken cancellationToken)
    {
        _job.EnsureExists();
        using var store = RevisionStore.Open(_job, "back up", _logger);
        Revision revision;
        using (await JobLocks.AcquirePurgeSharedAsync(_job.Path, cancellationToken).ConfigureAwait(false))
            revision = await BackupLockedAsync(store, source, tags, cancellationToken).ConfigureAwait(false);
        await VerifyNewestDistrustedAsync(store, cancellationToken).ConfigureAwait(false);
        return revision;
    }

    private async Task<Revision> BackupLockedAsync(RevisionStore store, IBackupSource source, IReadOnlyCollection<string> tags, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var all = _job.LoadRevisions();
        foreach (var stale in all.Where(IsStale))
        {
            _logger.RemovingIncomplete(stale.Id);
            store.Remove(stale.Id);
        }
        var history = all.Where(r => !IsStale(r)).ToList(); // one scan of the .rev files, not two
        var forced = JobDirectory.AnyDistrusted(history);
        if (forced) _logger.ForcedWrite(history.Last(r => r.IsLocal && r.Trust == Trust.Distrusted).Id);
        var parent = JobDirectory.SelectParent(history);

        var revision = new Revision
        {
            Id = RevisionId.New(),
            Timestamp = _time.GetUtcNow(),
            Parent = parent?.Id ?? "",
            Tags = new SortedSet<string>(tags, StringComparer.Ordinal),
            OrigTags = new SortedSet<string>(tags, StringComparer.Ordinal),
        };
        _logger.BackupStarted(_job.Name, revision.Id, string.Join(",", revision.Tags), parent?.Id ?? "(none)");
        store.Write(revision);

        var success = false;
        ISourceSnapshot? snapshot = null;
        try
        {
            var parentMap = ReadParentMap(parent);
            snapshot = await source.OpenSnapshotAsync(new SnapshotRequest(revision.Id, parent?.Id, AllowDiff: !forced && parentMap is not null), cancellationToken).ConfigureAwait(false);
            var map = new ChunkMap(snapshot.Size);
            var progress = new ProgressCounter("backup", Progress, map.BlockCount + VerificationBlocks(map.BlockCount, snapshot.Verification));
            long chunksWritten, bytesWritten;
            using (var session = _job.Chunks.BeginWrite(forced, _settings.Compression))
            {
                progress.WrittenSource = () => session.BytesWritten;
                var diff = forced || parentMap is null ? null : await snapshot.OpenDiffAsync(cancellationToken).ConfigureAwait(false);
                if (diff is not null)
                    await using (diff.ConfigureAwait(false))
                    {
                        _logger.ReadMode("diff against parent", snapshot.Size);
                        await ApplyDiffAsync(diff, snapshot.Size, parentMap!, map, session, progress, cancellationToken).ConfigureAwait(false);
                        session.Commit();
                        await StoreMissingParentChunksAsync(snapshot, map, session, cancellationToken).ConfigureAwait(false);
                    }
                else
                {
                    _logger.ReadMode("full image", snapshot.Size);
                    await ReadFullAsync(snapshot, map, session, progress, cancellationToken).ConfigureAwait(false);
                }
                session.Commit();
                chunksWritten = session.ChunksWritten;
                bytesWritten = session.BytesWritten;
                progress.WrittenSource = null;
                progress.Add(0, 0, bytesWritten);
            }
            snapshot.DataStored();
            ChunkMapWriter.Write(_job.ChunkMapPath(revision.Id), map, RevisionFile.ReadOnlyMode);

            await CheckAgainstSourceAsync(snapshot, revision, map, progress, cancellationToken).ConfigureAwait(false);

            revision.BytesWritten = bytesWritten;
            revision.ExtraStats["chunks_written"] = chunksWritten.ToString(System.Globalization.CultureInfo.InvariantCulture);
            revision.ExtraStats["image_size"] = snapshot.Size.ToString(System.Globalization.CultureInfo.InvariantCulture);
            revision.Duration = Math.Max(clock.Elapsed.TotalSeconds, 1e-6);
            store.Write(revision);
            success = true;
            _logger.BackupFinished(_job.Name, revision.Id, snapshot.Size, chunksWritten, bytesWritten, clock.Elapsed.TotalSeconds);
            return revision;
        }
        catch (ChunkCorruptedException e)
        {
            _logger.IntegrityError(e.Message);
            store.DistrustAll(e.Message);
            throw new BackyException($"backup of '{_job.Path}' failed: {e.Message}; all revisions are now distrusted", e);
        }
        finally
        {
            if (!success)
            {
                store.Remove(revision.Id);
                _logger.RemovedFailed(revision.Id);
            }
            if (snapshot is not null)
            {
                await snapshot.CompleteAsync(success, CancellationToken.None).ConfigureAwait(false);
                await snapshot.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Only what our own backup writes before it finishes: our format, local, no duration, nothing but
    /// <c>bytes_written: 0</c> in its stats (<see cref="RevisionFile.Parse"/> makes anything else damaged, and a
    /// damaged revision is never listed here). An interrupted revision of the original's formats is left alone.
    /// </summary>
    private static bool IsStale(Revision r) => !r.IsComplete && r.IsLocal && r.BackendType == Revision.OurBackendType;

    /// <summary>
    /// The parent's chunk map, or null when it cannot be read: the parent only saves work (the
    /// diff), so a backup without it is still complete and correct.
    /// </summary>
    private ChunkMap? ReadParentMap(Revision? parent)
    {
        if (parent is null) return null;
        try { return _job.ReadChunkMap(parent); }
        catch (BackyException e)
        {
            _logger.ParentMapUnreadable(parent.Id, e.Message);
            return null;
        }
    }

    private async Task VerifyNewestDistrustedAsync(RevisionStore store, CancellationToken cancellationToken)
    {
        var newest = RevisionVerifier.Distrusted(_job.LoadRevisions()).LastOrDefault();
        if (newest is null) return;
        // Still under the backup lock (the store holds it): nothing changes revisions meanwhile.
        await new RevisionVerifier(store, _logger, _settings).VerifyAsync([newest], cancellationToken).ConfigureAwait(false);
    }
}
