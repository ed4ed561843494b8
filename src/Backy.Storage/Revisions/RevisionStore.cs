using Backy.Storage.IO;
using Backy.Storage.Jobs;
using Backy.Storage.Locks;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Revisions;

/// <summary>
/// The one writer of a job's <c>.rev</c> files, and the holder of the job's <c>.backup</c> lock: opening a store
/// takes the lock, disposing it releases the lock, and no other type writes, rewrites or deletes a <c>.rev</c>
/// (<c>Architecture/RevisionWriterTests</c> checks that). Backup, verify, upgrade, distrust, tags, forget, expire,
/// a restore that found a bad chunk, and peer sync all change revisions through an open store, so every
/// read-modify-write of revision metadata happens under the lock and none can undo another's (issue 13: a
/// restore that distrusted without the lock lost concurrent tag changes and brought forgotten revisions back).
/// </summary>
/// <remarks>
/// Read under the lock, write under the same lock: a <see cref="Revision"/> loaded before the store was opened
/// may be stale, so the methods that change many revisions (<see cref="Distrust"/>) read them again themselves.
/// </remarks>
public sealed partial class RevisionStore : IDisposable
{
    private FileLock? _lock;
    private readonly ILogger _logger;

    public JobDirectory Job { get; }

    private RevisionStore(JobDirectory job, FileLock held, ILogger logger)
    {
        Job = job;
        _lock = held;
        _logger = logger;
    }

    /// <summary>Takes the <c>.backup</c> lock at once, or throws <see cref="JobLockedException"/> naming
    /// <paramref name="action"/> ("cannot ACTION job '...': another backup or revision change is running").</summary>
    public static RevisionStore Open(JobDirectory job, string action, ILogger logger)
    {
        job.EnsureExists();
        return new RevisionStore(job, JobLocks.AcquireBackup(job.Path, action), logger);
    }

    /// <summary>
    /// Waits up to <paramref name="wait"/> for the <c>.backup</c> lock (polling, so cancellation works); null when
    /// it stayed held. For a command that does not otherwise take the lock and must not fail at once because a tag
    /// change holds it for a moment (restore after a bad chunk).
    /// </summary>
    public static async Task<RevisionStore?> TryOpenAsync(JobDirectory job, TimeSpan wait, ILogger logger, CancellationToken cancellationToken)
    {
        job.EnsureExists();
        var waited = System.Diagnostics.Stopwatch.StartNew(); // a bound on a wait, not a point in time
        while (true)
        {
            var held = JobLocks.TryAcquireBackup(job.Path);
            if (held is not null) return new RevisionStore(job, held, logger);
            if (waited.Elapsed >= wait) return null;
            // 50 ms: as FileLock.AcquireAllAsync.
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the <c>.rev</c> atomically (temp, fsync, rename, fsync dir); complete revisions read-only.</summary>
    public void Write(Revision revision)
    {
        EnsureHeld();
        DurableFile.WriteAllText(Job.RevisionPath(revision.Id), RevisionFile.Serialize(revision),
            revision.IsComplete ? RevisionFile.ReadOnlyMode : null);
    }

    /// <summary>
    /// Removes a revision: the <c>.rev</c> first (so it stops being listed), then the chunk map. A crash in between
    /// leaves a chunk map without <c>.rev</c>, which purge deletes.
    /// </summary>
    public void Remove(string id)
    {
        EnsureHeld();
        if (id.Length == 0 || id is "." or ".." || Path.GetFileName(id) != id)
            throw new BackyException($"cannot remove revision '{id}': not a revision id");
        File.Delete(Job.RevisionPath(id));
        File.Delete(Job.ChunkMapPath(id));
        DurableFile.FsyncDirectory(Job.Path);
    }

    /// <summary>
    /// The switch of an upgrade: rewrites only the <c>backend_type</c> of a <c>.rev</c> in its YAML tree, so that
    /// every other field the original wrote stays exactly as it was. Atomic: the file names the old or the new format.
    /// </summary>
    public void SetBackendType(string id, string backendType, bool readOnly)
    {
        EnsureHeld();
        var path = Job.RevisionPath(id);
        var map = YamlTree.ParseMapping(File.ReadAllText(path));
        map.Children[new YamlDotNet.RepresentationModel.YamlScalarNode("backend_type")] = new YamlDotNet.RepresentationModel.YamlScalarNode(backendType);
        DurableFile.WriteAllText(path, YamlTree.Serialize(map), readOnly ? RevisionFile.ReadOnlyMode : null);
    }

    private void EnsureHeld() => ObjectDisposedException.ThrowIf(_lock is null, this);

    public void Dispose() => Interlocked.Exchange(ref _lock, null)?.Dispose();
}
