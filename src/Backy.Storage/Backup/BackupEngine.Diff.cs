using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.Pipeline;

namespace Backy.Storage.Backup;

public sealed partial class BackupEngine
{
    /// <summary>
    /// Applies a source diff onto the parent's blocks. Blocks no extent touches keep the parent's chunk and
    /// cost nothing; a touched block starts from the parent's content (unless an extent covers it whole),
    /// gets the extents patched in, and goes through the same workers as a full read.
    /// </summary>
    private async Task ApplyDiffAsync(ISourceDiff diff, long size, ChunkMap parentMap, ChunkMap map, ChunkWriteSession session, CancellationToken cancellationToken)
    {
        var common = Math.Min(parentMap.BlockCount, map.BlockCount);
        Array.Copy(parentMap.Entries, map.Entries, common);
        // When the image size changed, the last common block changed length: it must be rebuilt even if
        // no extent touches it. Blocks beyond the parent's end start as holes (zero).
        var resized = common > 0 && parentMap.LengthOf(common - 1) != map.LengthOf(common - 1) ? common - 1 : -1;
        var resizedTouched = false;
        var scratch = GC.AllocateUninitializedArray<byte>(ChunkStore.ScratchSize);
        var pipeline = new BlockPipeline(_settings.Workers, (work, s) => StoreBlock(work, null, map, session, s), cancellationToken);
        Exception? failure = null;
        try
        {
            long current = -1, lastEnd = 0;
            byte[]? buffer = null;
            while (await diff.ReadNextExtentAsync(pipeline.Token).ConfigureAwait(false) is { } extent)
            {
                if (extent.Offset < lastEnd || extent.Length < 0 || extent.Offset + extent.Length > size)
                    throw new BackyException($"source diff is invalid: extent at {extent.Offset} length {extent.Length} is out of order or beyond the image size {size}");
                lastEnd = extent.Offset + extent.Length;
                for (var pos = extent.Offset; pos < lastEnd;)
                {
                    var block = pos / map.BlockSize;
                    var blockStart = block * map.BlockSize;
                    var blockLength = map.LengthOf(block);
                    var pieceEnd = Math.Min(lastEnd, blockStart + blockLength);
                    if (block != current)
                    {
                        if (buffer is not null)
                            await pipeline.PostAsync(new BlockWork(current, buffer, map.LengthOf(current))).ConfigureAwait(false);
                        buffer = await pipeline.RentAsync().ConfigureAwait(false);
                        current = block;
                        resizedTouched |= block == resized;
                        if (pos != blockStart || pieceEnd != blockStart + blockLength)
                            LoadParentBlock(block, parentMap, buffer, blockLength, scratch);
                    }
                    var piece = buffer!.AsMemory((int)(pos - blockStart), (int)(pieceEnd - pos));
                    if (extent.IsZero) piece.Span.Clear();
                    else await diff.ReadDataAsync(piece, pipeline.Token).ConfigureAwait(false);
                    pos = pieceEnd;
                }
            }
            if (buffer is not null)
                await pipeline.PostAsync(new BlockWork(current, buffer, map.LengthOf(current))).ConfigureAwait(false);
            if (resized >= 0 && !resizedTouched)
            {
                buffer = await pipeline.RentAsync().ConfigureAwait(false);
                LoadParentBlock(resized, parentMap, buffer, map.LengthOf(resized), scratch);
                await pipeline.PostAsync(new BlockWork(resized, buffer, map.LengthOf(resized))).ConfigureAwait(false);
            }
        }
        catch (Exception e) { failure = e; }
        await pipeline.CompleteAsync(failure).ConfigureAwait(false);
    }

    /// <summary>The parent's content of a block, cut or zero-padded to <paramref name="length"/>.</summary>
    private void LoadParentBlock(long block, ChunkMap parentMap, byte[] buffer, int length, byte[] scratch)
    {
        var have = 0;
        if (block < parentMap.BlockCount && !parentMap.IsHole(block))
            have = Math.Min(length, _job.Chunks.Read(parentMap.Entries[block], buffer, scratch));
        buffer.AsSpan(have, length - have).Clear();
    }
}
