using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.Quarantine;
using Backy.Storage.Revisions;

namespace Backy.Storage.Jobs;

/// <summary>
/// One job's directory: revisions (<c>&lt;id&gt;.rev</c> + chunk map <c>&lt;id&gt;</c>), <c>chunks/</c>,
/// <c>quarantine/</c>, <c>config</c>, lock files. Stateless: every query reads the disk, because other
/// processes change the directory under us (guarded by <see cref="Locks.JobLocks"/>).
/// </summary>
public sealed class JobDirectory
{
    public string Path { get; }
    public ChunkStore Chunks { get; }
    public QuarantineStore Quarantine { get; }

    public JobDirectory(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        Chunks = new ChunkStore(System.IO.Path.Combine(Path, "chunks"));
        Quarantine = new QuarantineStore(System.IO.Path.Combine(Path, "quarantine"));
    }

    /// <summary>The job name is the directory's name.</summary>
    public string Name => System.IO.Path.GetFileName(Path);
    public string ConfigPath => System.IO.Path.Combine(Path, JobConfig.FileName);
    public string DefaultLogPath => System.IO.Path.Combine(Path, "backy.log");

    public string RevisionPath(string id) => System.IO.Path.Combine(Path, id + RevisionFile.Extension);
    public string ChunkMapPath(string id) => System.IO.Path.Combine(Path, id);

    public void EnsureExists()
    {
        if (!Directory.Exists(Path))
            throw new BackyException($"job directory '{Path}' does not exist");
    }

    public JobConfig LoadConfig() => JobConfig.Load(ConfigPath);

    /// <summary>Every revision (complete or not, local or remote), oldest first.</summary>
    public IReadOnlyList<Revision> LoadRevisions()
    {
        if (!Directory.Exists(Path)) return [];
        var list = new List<Revision>();
        foreach (var file in Directory.EnumerateFiles(Path, "*" + RevisionFile.Extension))
        {
            if (new FileInfo(file).LinkTarget is not null) continue; // the original's `last.rev` link
            Revision rev;
            try { rev = RevisionFile.Read(file); }
            catch (BackyException) when (!File.Exists(file)) { continue; } // removed while we listed
            list.Add(rev);
        }
        list.Sort(RevisionOrder.Compare);
        return list;
    }

    /// <summary>Complete revisions, oldest first: what status lists as valid and specs select from.</summary>
    public IReadOnlyList<Revision> CompleteRevisions() => LoadRevisions().Where(r => r.IsComplete).ToList();

    public Revision LoadRevision(string id) => RevisionFile.Read(RevisionPath(id));

    /// <summary>Parent for a new backup: the newest complete, not distrusted, local revision.</summary>
    public static Revision? SelectParent(IEnumerable<Revision> history) =>
        history.Where(r => r.IsComplete && r.IsLocal && r.Trust != Trust.Distrusted && r.BackendType == Revision.OurBackendType)
            .OrderBy(r => r, Comparer<Revision>.Create(RevisionOrder.Compare)).LastOrDefault();

    public ChunkMap ReadChunkMap(Revision revision) => ChunkMapReader.Read(ChunkMapPath(revision.Id));

    public bool HasChunkMap(string id) => File.Exists(ChunkMapPath(id));

    /// <summary>Writes the .rev atomically; complete revisions are made read-only.</summary>
    public void WriteRevision(Revision revision) =>
        RevisionFile.Write(RevisionPath(revision.Id), revision, readOnly: revision.IsComplete);

    /// <summary>
    /// Removes a revision: the .rev first (so it stops being listed), then the chunk map. A crash in
    /// between leaves a chunk map without .rev, which purge deletes.
    /// </summary>
    public void RemoveRevision(string id)
    {
        File.Delete(RevisionPath(id));
        File.Delete(ChunkMapPath(id));
        IO.DurableFile.FsyncDirectory(Path);
    }

    /// <summary>Chunk map files without a .rev (left by a crash during removal).</summary>
    public IEnumerable<string> OrphanChunkMaps() =>
        Directory.EnumerateFiles(Path)
            .Where(f => RevisionId.IsValid(System.IO.Path.GetFileName(f)) && !File.Exists(f + RevisionFile.Extension));

    /// <summary>True while some revision is distrusted: backups then run in forced-write mode.</summary>
    public static bool AnyDistrusted(IEnumerable<Revision> history) =>
        history.Any(r => r.IsLocal && r.Trust == Trust.Distrusted);
}
