using Backy.Storage.Chunks;
using Backy.Storage.Jobs;
using Backy.Storage.Legacy;

namespace Backy.Tests.Legacy;

/// <summary>Reads a whole revision in whatever format its .rev names: what a restore has to do.</summary>
internal static class RevisionImageReader
{
    public static byte[] Read(JobDirectory job, string id)
    {
        var revision = job.LoadRevision(id);
        if (LegacyFormat.IsLegacy(revision.BackendType))
        {
            using var image = LegacyImages.Open(job.Path, revision);
            var result = new byte[image.Size];
            var buffer = new byte[Blocks.Size];
            for (long b = 0; b < image.BlockCount; b++)
                if (image.ReadBlock(b, buffer))
                    buffer.AsSpan(0, image.LengthOf(b)).CopyTo(result.AsSpan((int)(b * Blocks.Size)));
            return result;
        }
        var map = job.ReadChunkMap(revision);
        var output = new byte[map.ImageSize];
        var scratch = new byte[ChunkStore.ScratchSize];
        for (long b = 0; b < map.BlockCount; b++)
            if (!map.IsHole(b))
                job.Chunks.Read(map.Entries[b], output.AsSpan((int)(b * map.BlockSize), map.LengthOf(b)), scratch);
        return output;
    }
}
