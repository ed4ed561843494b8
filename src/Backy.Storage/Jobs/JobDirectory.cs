using System.Collections.Concurrent;
using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.Quarantine;
using Backy.Storage.Revisions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

using Backy.Storage.IO;

namespace Backy.Storage.Jobs;

/// <summary>
/// One job's directory: revisions (<c>&lt;id&gt;.rev</c> + chunk map <c>&lt;id&gt;</c>), <c>chunks/</c>,
/// <c>quarantine/</c>, <c>config</c>, lock files (the names: <see cref="JobLayout"/>). Stateless: every query reads the disk, because other
/// processes change the directory under us (guarded by <see cref="Locks.JobLocks"/>).
/// </summary>
public sealed class JobDirectory
{
    public string Path { get; }
    public ChunkStore Chunks { get; }
    public QuarantineStore Quarantine { get; }

    private readonly ILogger _logger;
    // One warning per damaged .rev per command, although a command lists the revisions several times.
    private readonly ConcurrentDictionary<string, bool> _warned = new(StringComparer.Ordinal);

    /// <param name="logger">Where a damaged <c>.rev</c> skipped while listing is reported.</param>
    public JobDirectory(string path, ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        Path = System.IO.Path.GetFullPath(path);
        Chunks = new ChunkStore(System.IO.Path.Combine(Path, JobLayout.ChunksDirectoryName));
        Quarantine = new QuarantineStore(System.IO.Path.Combine(Path, JobLayout.QuarantineDirectoryName));
    }

    /// <summary>The job name is the directory's name.</summary>
    public string Name => System.IO.Path.GetFileName(Path);
    public string ConfigPath => System.IO.Path.Combine(Path, JobLayout.ConfigFileName);
    public string DefaultLogPath => System.IO.Path.Combine(Path, JobLayout.LogFileName);

    public string RevisionPath(string id) => System.IO.Path.Combine(Path, id + JobLayout.RevisionExtension);
    public string ChunkMapPath(string id) => System.IO.Path.Combine(Path, id);

    public void EnsureExists()
    {
        if (!Directory.Exists(Path))
            throw new BackyException($"job directory '{Path}' does not exist");
    }

    public JobConfig LoadConfig() => JobConfig.Load(ConfigPath);

    /// <summary>
    /// Every readable revision (complete or not, local or remote), oldest first. A damaged or unreadable
    /// <c>.rev</c> is skipped with one warning naming it (see <see cref="ScanRevisions"/>): one bad file
    /// must not stop status, restore or backup of the healthy revisions.
    /// </summary>
    public IReadOnlyList<Revision> LoadRevisions() => ScanRevisions().Revisions;

    /// <summary>
    /// The readable revisions and the <c>.rev</c> files that cannot be read. Damaged ones are never deleted
    /// here: purge keeps their chunks (<see cref="Purge.GarbageCollector"/>), the operator repairs the file
    /// or removes the revision with <c>forget -r ID</c>.
    /// </summary>
    public RevisionScan ScanRevisions()
    {
        if (!Directory.Exists(Path)) return new RevisionScan([], []);
        var list = new List<Revision>();
        var damaged = new List<DamagedRevision>();
        foreach (var file in Directory.EnumerateFiles(Path, "*" + JobLayout.RevisionExtension))
        {
            if (new FileInfo(file).LinkTarget is not null) continue; // the original's `last.rev` link
            try { list.Add(Consistent(RevisionFile.Read(file), file)); }
            catch (Exception e) when (e is BackyException or IOException or UnauthorizedAccessException)
            {
                if (!File.Exists(file)) continue; // removed while we listed
                var bad = new DamagedRevision(System.IO.Path.GetFileNameWithoutExtension(file), file, e switch
                {
                    BackyException => e.Message,
                    IOException io => $"revision file '{file}' cannot be read: {DurableFile.Reason(io)}",
                    _ => $"revision file '{file}' cannot be read: permission denied",
                }, Unreadable: e is not BackyException);
                damaged.Add(bad);
                if (_warned.TryAdd(file, true)) _logger.DamagedRevisionSkipped(bad.Reason, bad.Id);
            }
        }
        list.Sort(RevisionOrder.Compare);
        return new RevisionScan(list, damaged);
    }

    /// <summary>
    /// Catches a <c>.rev</c> that parses but cannot be what was written: it claims an old format (no
    /// <c>backend_type</c>: a truncated file reads like the original's oldest ones) while its chunk map is in ours.
    /// Taken at face value, the next backup would remove it as an incomplete old revision, chunk map included.
    /// </summary>
    private Revision Consistent(Revision revision, string file)
    {
        var name = System.IO.Path.GetFileNameWithoutExtension(file);
        // With a parked old data file it is an interrupted upgrade instead, which UpgradeRecovery rolls back.
        if (Legacy.LegacyFormat.IsLegacy(revision.BackendType) && HasOurChunkMap(name)
            && !File.Exists(ChunkMapPath(name) + Legacy.LegacyFormat.ParkedSuffix))
            throw new BackyException($"revision file '{file}' is invalid - it names the old format '{revision.BackendType}' but its chunk map '{ChunkMapPath(name)}' is in this version's format (truncated?)");
        return revision;
    }

    private bool HasOurChunkMap(string id) => ChunkMapReader.IsOurFormat(ChunkMapPath(id));

    /// <summary>
    /// <see cref="RevisionSpec.Resolve"/>, but a spec naming a damaged revision gets the reason instead of
    /// "no revision matches". A spec naming a revision id that reads now (its <c>.rev</c> could not be read when
    /// the caller listed, a passing I/O error: the fault sweep) resolves against a fresh listing.
    /// </summary>
    /// <param name="revisions">Every revision (complete and incomplete): <see cref="RevisionSpec"/> decides.</param>
    public Revision Resolve(string? spec, IReadOnlyList<Revision> revisions, bool incompleteById = false)
    {
        try { return RevisionSpec.Resolve(spec, revisions, incompleteById); }
        catch (BackyException) when (spec is not null && ScanRevisions() is var scan
                                     && (scan.Damaged.Any(d => d.Id == spec.Trim()) || scan.Revisions.Any(r => r.Id == spec.Trim())))
        {
            if (scan.Damaged.FirstOrDefault(d => d.Id == spec.Trim()) is { } bad)
                throw new BackyException($"revision {bad.Id} cannot be used: {bad.Reason}");
            return RevisionSpec.Resolve(spec, scan.Revisions, incompleteById);
        }
    }

    /// <summary>The damaged revision with this id, if its <c>.rev</c> exists and cannot be read.</summary>
    public DamagedRevision? DamagedRevision(string id) =>
        ScanRevisions().Damaged.FirstOrDefault(d => d.Id == id);

    /// <summary>Complete revisions, oldest first: what status lists as valid and specs count (RevisionSpec).</summary>
    public IReadOnlyList<Revision> CompleteRevisions() => LoadRevisions().Where(r => r.IsComplete).ToList();

    public Revision LoadRevision(string id) => RevisionFile.Read(RevisionPath(id));

    /// <summary>True when <c>&lt;id&gt;.rev</c> exists as a file of this directory (a symbolic link is not one:
    /// listing skips it, and following it would act on another directory's revision).</summary>
    public bool HasRevisionFile(string id)
    {
        var path = RevisionPath(id);
        return File.Exists(path) && new FileInfo(path).LinkTarget is null;
    }

    /// <summary>Parent for a new backup: the newest complete, not distrusted, local revision.</summary>
    public static Revision? SelectParent(IEnumerable<Revision> history) =>
        history.Where(r => r.IsComplete && r.IsLocal && r.Trust != Trust.Distrusted && r.BackendType == Revision.OurBackendType)
            .OrderBy(r => r, Comparer<Revision>.Create(RevisionOrder.Compare)).LastOrDefault();

    public ChunkMap ReadChunkMap(Revision revision) => ChunkMapReader.Read(ChunkMapPath(revision.Id));

    public bool HasChunkMap(string id) => File.Exists(ChunkMapPath(id));

    // Writing and removing revisions: RevisionStore, the one writer (it holds the .backup lock).

    /// <summary>Chunk map files without a .rev (left by a crash during removal).</summary>
    public IEnumerable<string> OrphanChunkMaps() =>
        Directory.EnumerateFiles(Path)
            .Where(f => RevisionId.IsValid(System.IO.Path.GetFileName(f)) && !File.Exists(f + JobLayout.RevisionExtension));

    /// <summary>True while some revision is distrusted: backups then run in forced-write mode.</summary>
    public static bool AnyDistrusted(IEnumerable<Revision> history) =>
        history.Any(r => r.IsLocal && r.Trust == Trust.Distrusted);
}
