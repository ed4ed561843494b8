using Backy.Storage.Jobs;
using Backy.Storage.Legacy;
using Backy.Storage.Revisions;

namespace Backy.Storage.Images;

/// <summary>
/// Opens a revision's image in the format its <c>.rev</c> names: the only place that branches on
/// <c>backend_type</c> for reading. A format this version does not know is an error here, for every reader
/// alike (restore, verify and purge used to disagree about it).
/// </summary>
public static class RevisionImages
{
    /// <summary>
    /// Throws <see cref="UnknownFormatException"/> for an unknown backend_type, <see cref="BackyException"/>
    /// when the revision's chunk map (or old data file) is missing or unreadable. <paramref name="deep"/> (verify):
    /// whole reads of chunks stored in parts also check every part's checksum, which a small read relies on.
    /// </summary>
    public static IRevisionImage Open(JobDirectory job, Revision revision, bool deep = false) => revision.BackendType switch
    {
        Revision.OurBackendType => new ChunkedImage(job.ReadChunkMap(revision), job.Chunks, job.ChunkMapPath(revision.Id), deep),
        LegacyFormat.Chunked or LegacyFormat.Cowfile => LegacyImages.Open(job.Path, revision),
        _ => throw new UnknownFormatException(revision.Id, revision.BackendType),
    };

    /// <summary>
    /// Whether the revision has data in this directory: false for a peer's revision (metadata only) and for a
    /// backup that died before its chunk map was written.
    /// </summary>
    public static bool HasData(JobDirectory job, Revision revision) =>
        File.Exists(job.ChunkMapPath(revision.Id)) || File.Exists(job.ChunkMapPath(revision.Id) + LegacyFormat.ParkedSuffix);
}
