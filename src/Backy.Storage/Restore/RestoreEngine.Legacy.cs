using Backy.Storage.Chunks;
using Backy.Storage.Legacy;
using Backy.Storage.Revisions;

namespace Backy.Storage.Restore;

public sealed partial class RestoreEngine
{
    /// <summary>
    /// A revision `upgrade` has not converted yet is read in its own format (the original's chunked or
    /// cowfile backend), block by block and in order; every old chunk is checked against its MurmurHash3.
    /// </summary>
    private async Task RestoreLegacyAsync(Revision revision, ITarget target, CancellationToken cancellationToken)
    {
        using var image = LegacyImages.Open(_job.Path, revision);
        target.Prepare(image.Size);
        var buffer = GC.AllocateUninitializedArray<byte>(Blocks.Size);
        for (long block = 0; block < image.BlockCount; block++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var offset = block * Blocks.Size;
            var length = image.LengthOf(block);
            bool present;
            try { present = image.ReadBlock(block, buffer); }
            catch (ChunkCorruptedException e)
            {
                DistrustAllLocal();
                throw new BackyException($"cannot restore block {block} (offset {offset}) of revision {revision.Id}: {e.Message}; all revisions are now distrusted", e);
            }
            if (present)
                await target.WriteAsync(offset, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            else
                await target.WriteHoleAsync(offset, Zeros[..length], cancellationToken).ConfigureAwait(false);
        }
        await target.FinishAsync(cancellationToken).ConfigureAwait(false);
    }
}
