using Backy.Storage.Chunks;
using Backy.Storage.Revisions;

namespace Backy.Storage.Legacy;

/// <summary>
/// `verify` of a revision still in the original's format: reads every block, checking each old chunk
/// against its MurmurHash3. A bad old chunk file is deleted, as verify does with ours.
/// </summary>
public static class LegacyVerifier
{
    /// <summary>Null when the revision is sound, else what is wrong with it.</summary>
    public static string? Check(string jobDirectory, Revision revision, CancellationToken cancellationToken)
    {
        try
        {
            using var image = LegacyImages.Open(jobDirectory, revision);
            var buffer = GC.AllocateUninitializedArray<byte>(Blocks.Size);
            for (long block = 0; block < image.BlockCount; block++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                image.ReadBlock(block, buffer);
            }
            return null;
        }
        catch (ChunkCorruptedException e)
        {
            new LegacyChunkStore(Path.Combine(jobDirectory, "chunks")).Delete(e.Expected.ToString());
            return e.Message;
        }
        catch (Exception e) when (e is BackyException or IOException)
        {
            return e.Message;
        }
    }
}
