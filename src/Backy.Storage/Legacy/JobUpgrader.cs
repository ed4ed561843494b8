using Backy.Storage.Jobs;
using Backy.Storage.Locks;
using Backy.Storage.Progress;
using Backy.Storage.Revisions;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Legacy;

/// <summary>
/// `upgrade`: converts a job directory written by the Python backy 2.x into our format, in place,
/// newest revision first (so that the next backup can be differential as soon as possible), one
/// revision at a time. Interruptible at any point, kill -9 included: a rerun recovers and goes on.
/// Holds the <c>.backup</c> lock for the whole run (no backup or tag change meanwhile) and the
/// <c>.purge</c> lock exclusively per revision (no purge may delete new chunks that are not referenced
/// yet, no restore may read old chunks while they are deleted); restores can run between revisions.
/// </summary>
public sealed class JobUpgrader
{
    private readonly JobDirectory _job;
    private readonly ILogger _logger;

    public JobUpgrader(JobDirectory job, ILogger logger)
    {
        _job = job;
        _logger = logger;
    }

    /// <summary>Where the upgrade reports how far it is: blocks converted of the blocks of every revision it will
    /// convert (their sizes are read before the first conversion), bytes of old images read, bytes of new chunk files.</summary>
    public IProgress<OperationProgress>? Progress { get; init; }

    /// <summary>Test seam, handed to <see cref="RevisionUpgrader.Checkpoint"/>.</summary>
    internal Action<string>? Checkpoint { get; init; }

    public async Task<UpgradeReport> RunAsync(CancellationToken cancellationToken)
    {
        _job.EnsureExists();
        var report = new UpgradeReport();
        using var store = RevisionStore.Open(_job, "upgrade", _logger);
        RemoveOriginalLinks();

        using (await JobLocks.AcquirePurgeExclusiveAsync(_job.Path, cancellationToken).ConfigureAwait(false))
            UpgradeRecovery.Recover(_job, _logger);

        var scan = _job.ScanRevisions();
        // Converting deletes old chunks no other legacy revision references: a damaged .rev may be one.
        if (scan.Damaged.Count > 0)
            throw new BackyException(scan.Damaged[0].Unreadable
                ? $"cannot upgrade: {scan.Damaged[0].Reason}; nothing was converted"
                : $"cannot upgrade: {scan.Damaged[0].Reason}; repair the file or remove the revision (forget -r {scan.Damaged[0].Id}) first");
        var history = scan.Revisions;
        var references = LegacyReferences.Build(_job.Path, history);
        var progress = new ProgressCounter("upgrade", Progress);
        var upgrader = new RevisionUpgrader(store, references) { Checkpoint = Checkpoint, Progress = progress };
        var forcedWrite = JobDirectory.AnyDistrusted(history);

        var todo = history.Where(r => LegacyFormat.IsLegacy(r.BackendType)).Reverse().ToList();
        if (progress.Enabled) progress.Total = todo.Where(r => SkipReason(r) is null).Sum(BlockCount);
        foreach (var revision in todo)
        {
            if (SkipReason(revision) is { } reason)
            {
                UpgradeLog.Skipped(_logger, revision.Id, reason);
                report.Skipped.Add((revision.Id, reason));
                continue;
            }
            using var purgeLock = await JobLocks.AcquirePurgeExclusiveAsync(_job.Path, cancellationToken).ConfigureAwait(false);
            UpgradeLog.Converting(_logger, revision.Id, revision.BackendType, Length(revision));
            references.RefreshPins(_job.Path); // nbd-server may serve it: its old chunks stay until it stops
            try
            {
                var (written, deleted) = upgrader.Convert(revision, forcedWrite, cancellationToken);
                report.Converted.Add(revision.Id);
                report.LegacyChunksDeleted += deleted;
                UpgradeLog.Converted(_logger, revision.Id, written);
            }
            catch (LegacyDataException e)
            {
                UpgradeLog.Failed(_logger, revision.Id, e.Message);
                report.Failed.Add((revision.Id, e.Message));
            }
        }

        using (await JobLocks.AcquirePurgeExclusiveAsync(_job.Path, cancellationToken).ConfigureAwait(false))
        {
            references.RefreshPins(_job.Path);
            report.LegacyChunksDeleted += LegacySweep.Run(_job, references, _logger);
        }
        return report;
    }

    private static string? SkipReason(Revision revision)
    {
        if (!revision.IsLocal) return $"its data is on server '{revision.Server}'";
        if (!revision.IsComplete) return "incomplete (no duration); the next backup deletes it";
        return null;
    }

    /// <summary>The blocks of a legacy revision's image, for the progress total; 0 when it cannot be opened
    /// (its conversion then fails with the reason).</summary>
    private long BlockCount(Revision revision)
    {
        try
        {
            using var image = LegacyImages.Open(_job.Path, revision);
            return image.BlockCount;
        }
        catch (Exception e) when (e is BackyException or IOException) { return 0; }
    }

    private long Length(Revision revision)
    {
        var data = new FileInfo(LegacyFormat.DataPath(_job.Path, revision.Id));
        return data.Exists ? data.Length : 0;
    }

    /// <summary>The original keeps symlinks <c>last</c> and <c>last.rev</c> to the newest revision; we do not.</summary>
    private void RemoveOriginalLinks()
    {
        foreach (var name in new[] { "last", "last.rev" })
        {
            var info = new FileInfo(Path.Combine(_job.Path, name));
            if (info.LinkTarget is not null) info.Delete();
        }
    }
}
