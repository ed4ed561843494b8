using Backy.Storage.Chunks;
using Backy.Storage.Images;
using Backy.Storage.Jobs;

namespace Backy.Tests.Legacy;

/// <summary>Reads a whole revision in whatever format its .rev names, through the one read path a restore uses.</summary>
internal static class RevisionImageReader
{
    public static byte[] Read(JobDirectory job, string id)
    {
        using var image = RevisionImages.Open(job, job.LoadRevision(id));
        var result = new byte[image.Size];
        var buffer = new byte[Blocks.Size];
        for (long b = 0; b < image.BlockCount; b++)
            if (image.ReadBlock(b, buffer))
                buffer.AsSpan(0, image.LengthOf(b)).CopyTo(result.AsSpan((int)(b * Blocks.Size)));
        return result;
    }
}
