using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.Pipeline;
using Backy.Storage.Progress;

namespace Backy.Storage.Backup;

public sealed partial class BackupEngine
{
    /// <summary>
    /// Applies a source diff onto the parent's blocks. Blocks no extent touches keep the parent's chunk and
    /// cost nothing (progress counts the position in the image: the diff arrives in order); a touched block starts from the parent's content (unless an extent covers it whole),
    /// gets the extents patched in, and goes through the same workers as a full read.
    /// </summary>
    private async Task ApplyDiffAsync(ISourceDiff diff, long size, ChunkMap parentMap, ChunkMap map, ChunkWriteSession session, ProgressCounter progress, CancellationToken cancellationToken)
    {
        var common = Math.Min(parentMap.BlockCount, map.BlockCount);
        Array.Copy(parentMap.Entries, map.Entries, common);
        // When the image size changed, the last common block changed length: it must be rebuilt even if
        // no extent touches it. Blocks beyond the parent's end start as holes (zero).
        var resized = common > 0 && parentMap.LengthOf(common - 1) != map.LengthOf(common - 1) ? common - 1 : -1;
        var resizedTouched = false;
        var scratch = GC.AllocateUninitializedArray<byte>(ChunkStore.ScratchSize);
        var pipeline = new BlockPipeline(_settings.Workers, (work, s) => StoreBlock(work, map, session, s), cancellationToken);
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
                    progress.Advance(block, extent.IsZero ? 0 : piece.Length);
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
        progress.Advance(map.BlockCount, 0);
    }

    /// <summary>The parent's content of a block, cut or zero-padded to <paramref name="length"/>.</summary>
    private void LoadParentBlock(long block, ChunkMap parentMap, byte[] buffer, int length, byte[] scratch)
    {
        var have = 0;
        if (block < parentMap.BlockCount && !parentMap.IsHole(block))
            have = Math.Min(length, _job.Chunks.Read(parentMap.Entries[block], buffer, scratch));
        buffer.AsSpan(have, length - have).Clear();
    }

    /// <summary>
    /// Blocks no extent touched keep the parent's chunk ids without reading them; a chunk verify found bad and
    /// deleted since is not there any more. Each such block is read from the source and stored again, so the
    /// new map never names a missing chunk (one stat per distinct chunk, after the commit).
    /// </summary>
    private async Task StoreMissingParentChunksAsync(ISourceSnapshot snapshot, ChunkMap map, ChunkWriteSession session, CancellationToken cancellationToken)
    {
        var present = new HashSet<ChunkId>();
        var missing = new List<long>();
        for (long block = 0; block < map.BlockCount; block++)
        {
            var id = map.Entries[block];
            if (id == ChunkMap.Hole || present.Contains(id)) continue;
            if (_job.Chunks.Exists(id)) present.Add(id);
            else missing.Add(block);
        }
        if (missing.Count == 0) return;
        _logger.RewritingMissingChunks(missing.Count);
        var buffer = GC.AllocateUninitializedArray<byte>(Blocks.Size);
        var scratch = GC.AllocateUninitializedArray<byte>(ChunkStore.ScratchSize);
        foreach (var block in missing)
        {
            var length = map.LengthOf(block);
            var read = await snapshot.ReadAtAsync(block * map.BlockSize, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            if (read != length)
                throw new BackyException($"source ended early: expected {map.ImageSize} bytes, got {block * map.BlockSize + read}");
            StoreBlock(new BlockWork(block, buffer, length), map, session, scratch);
        }
        session.Commit();
    }
}
