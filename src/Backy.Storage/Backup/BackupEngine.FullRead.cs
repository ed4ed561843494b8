using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.Pipeline;
using Backy.Storage.Progress;

namespace Backy.Storage.Backup;

public sealed partial class BackupEngine
{
    /// <summary>
    /// Reads the whole image sequentially (one reader, large reads) while the workers hash and store.
    /// A block whose chunk exists costs the read, the hash and a stat.
    /// </summary>
    private async Task ReadFullAsync(ISourceSnapshot snapshot, ChunkMap map, ChunkWriteSession session, ProgressCounter progress, CancellationToken cancellationToken)
    {
        if (snapshot.ParallelFullRead)
        {
            await ReadFullParallelAsync(snapshot, map, session, progress, cancellationToken).ConfigureAwait(false);
            return;
        }
        var pipeline = new BlockPipeline(_settings.Workers, (work, scratch) => StoreBlock(work, map, session, scratch, progress), cancellationToken);
        Exception? failure = null;
        try
        {
            var stream = await snapshot.OpenFullReadAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                for (long block = 0; block < map.BlockCount; block++)
                {
                    var buffer = await pipeline.RentAsync().ConfigureAwait(false);
                    var length = map.LengthOf(block);
                    try { await stream.ReadExactlyAsync(buffer.AsMemory(0, length), pipeline.Token).ConfigureAwait(false); }
                    catch (EndOfStreamException)
                    {
                        pipeline.Return(buffer);
                        throw new BackyException($"source ended early: expected {map.ImageSize} bytes, got less than {block * map.BlockSize + length}");
                    }
                    await pipeline.PostAsync(new BlockWork(block, buffer, length)).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) { failure = e; }
        await pipeline.CompleteAsync(failure).ConfigureAwait(false);
    }

    /// <summary>
    /// Each worker reads its own blocks with positional reads and processes them: no hand-off, and the
    /// copying out of the page cache runs on every core instead of one reader thread. Blocks the source
    /// knows to be holes (<see cref="ISourceSnapshot.FindHolesAsync"/>) are mapped as holes without a read.
    /// </summary>
    private async Task ReadFullParallelAsync(ISourceSnapshot snapshot, ChunkMap map, ChunkWriteSession session, ProgressCounter progress, CancellationToken cancellationToken)
    {
        var holes = await snapshot.FindHolesAsync(cancellationToken).ConfigureAwait(false);
        if (holes is not null && holes.BlockCount != map.BlockCount) holes = null; // not this image's geometry: read everything
        if (holes is null) _logger.HolesUnknown(map.BlockCount);
        else _logger.KnownHoles(holes.Count, map.BlockCount);
        // A source waiting on the network asks for more readers than cores: the extra ones mostly wait.
        var workers = Math.Max(Math.Max(1, _settings.Workers), snapshot.FullReadConcurrency);
        long next = -1;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            try { await ReadBlocksAsync().ConfigureAwait(false); }
            catch
            {
                Interlocked.Exchange(ref next, map.BlockCount); // the first failure stops the other workers
                throw;
            }
        }, cancellationToken))).ConfigureAwait(false);

        async Task ReadBlocksAsync()
        {
            var block = GC.AllocateUninitializedArray<byte>(Blocks.Size);
            var scratch = GC.AllocateUninitializedArray<byte>(ChunkStore.ScratchSize);
            for (var index = Interlocked.Increment(ref next); index < map.BlockCount; index = Interlocked.Increment(ref next))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (holes is not null && holes.IsHole(index))
                {
                    map.Entries[index] = ChunkMap.Hole;
                    progress.Add(1, 0);
                    continue;
                }
                var length = map.LengthOf(index);
                var read = await snapshot.ReadAtAsync(index * map.BlockSize, block.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                if (read != length)
                    throw new BackyException($"source ended early: expected {map.ImageSize} bytes, got {index * map.BlockSize + read}");
                StoreBlock(new BlockWork(index, block, length), map, session, scratch, progress);
            }
        }
    }

    /// <summary>The per-block work of a backup, on a worker thread: zero check, hash, store unless the chunk exists.
    /// Counts the block as done when <paramref name="progress"/> is given (a diff counts by position instead).</summary>
    private static void StoreBlock(BlockWork work, ChunkMap map, ChunkWriteSession session, byte[] scratch, ProgressCounter? progress = null)
    {
        var data = work.Data;
        if (Blocks.IsAllZero(data))
        {
            map.Entries[work.Index] = ChunkMap.Hole;
            progress?.Add(1, work.Length);
            return;
        }
        var id = ChunkId.Of(data);
        map.Entries[work.Index] = id;
        // No shortcut for "same hash as the parent's block": verify may have deleted that chunk since (it
        // was bad), and a map must never name a chunk that is not there. The session's existence check is a
        // stat; whether an existing chunk still holds its content is the post-backup verification's question.
        session.Write(id, data, scratch);
        progress?.Add(1, work.Length);
    }
}
