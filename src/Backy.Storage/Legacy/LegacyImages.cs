using Backy.Storage.Images;
using Backy.Storage.Jobs;
using Backy.Storage.Revisions;

namespace Backy.Storage.Legacy;

/// <summary>Opens a revision that is still in one of the original's formats, chosen by its backend_type.</summary>
public static class LegacyImages
{
    public static IRevisionImage Open(string jobDirectory, Revision revision)
    {
        var data = LegacyFormat.DataPath(jobDirectory, revision.Id);
        return revision.BackendType switch
        {
            LegacyFormat.Chunked => new LegacyChunkedImage(LegacyChunkMap.Read(data),
                new LegacyChunkStore(Path.Combine(jobDirectory, JobLayout.ChunksDirectoryName))),
            LegacyFormat.Cowfile => new CowfileImage(data),
            _ => throw new BackyException(
                $"revision {revision.Id} has backend_type '{revision.BackendType}', which is not a format of the original backy"),
        };
    }
}
