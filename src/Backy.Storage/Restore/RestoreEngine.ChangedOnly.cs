using System.Diagnostics;
using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.IO;
using Backy.Storage.Locks;
using Backy.Storage.Revisions;

namespace Backy.Storage.Restore;

public sealed partial class RestoreEngine
{
    /// <summary>
    /// A changed-blocks restore (<c>restore --changed-only</c>): reads the target block by block, hashes each block
    /// and writes only the blocks whose hash differs from the revision's (holes: blocks that are not all zero),
    /// then flushes and reads the written blocks back. Rolling a disk back after a few changed blocks then costs a
    /// read of the disk instead of a write of all of it, and unchanged blocks need no chunk read or decompression.
    /// Returns only when the target is bit-identical to the revision; anything else throws.
    /// </summary>
    public async Task<ChangedRestoreResult> RestoreChangedAsync(Revision revision, IRestoreTarget target, CancellationToken cancellationToken)
    {
        using var purgeLock = await JobLocks.AcquirePurgeSharedAsync(_job.Path, cancellationToken).ConfigureAwait(false);
        if (Legacy.LegacyFormat.IsLegacy(revision.BackendType))
            throw new BackyException($"revision {revision.Id} is in the original backy's format: restore it without --changed-only, or run 'upgrade' first");
        var clock = Stopwatch.StartNew();
        var map = _job.ReadChunkMap(revision);
        _logger.RestoreStarted(revision.Id, map.ImageSize, target.Name + " (changed blocks only)");
        await target.PrepareAsync(map.ImageSize, cancellationToken).ConfigureAwait(false);

        var written = new bool[map.BlockCount];
        await ForEachBlockAsync(map, target, cancellationToken, async (block, buffer, scratch, token) =>
        {
            var length = map.LengthOf(block);
            var offset = block * map.BlockSize;
            if (await ReadTargetBlockAsync(target, offset, buffer, length, token).ConfigureAwait(false) is var current
                && Matches(map, block, current.Span))
                return;
            if (map.IsHole(block))
                await target.WriteZeroesAsync(offset, length, token).ConfigureAwait(false);
            else
            {
                DecodeBlock(revision, map, block, buffer, scratch);
                await target.WriteAsync(offset, buffer[..length], token).ConfigureAwait(false);
            }
            written[block] = true;
        }).ConfigureAwait(false);
        await target.FlushAsync(cancellationToken).ConfigureAwait(false);

        // Exit 0 means "bit-identical": read back what was written (the rest matched when it was read).
        await ForEachBlockAsync(map, target, cancellationToken, async (block, buffer, _, token) =>
        {
            if (!written[block]) return;
            var current = await ReadTargetBlockAsync(target, block * map.BlockSize, buffer, map.LengthOf(block), token).ConfigureAwait(false);
            if (!Matches(map, block, current.Span))
                throw new BackyException($"restore target {target.Name}: block {block} (offset {block * map.BlockSize}) still differs from revision {revision.Id} after writing it");
        }).ConfigureAwait(false);

        var result = new ChangedRestoreResult(map.BlockCount, written.LongCount(w => w));
        _logger.ChangedRestoreFinished(revision.Id, target.Name, result.WrittenBlocks, result.Blocks, clock.Elapsed.TotalSeconds);
        return result;
    }

    private static bool Matches(ChunkMap map, long block, ReadOnlySpan<byte> current) =>
        map.IsHole(block) ? Blocks.IsAllZero(current) : ChunkId.Of(current) == map.Entries[block];

    /// <summary>The target's block; what lies beyond its end reads as zeroes.</summary>
    private static async ValueTask<Memory<byte>> ReadTargetBlockAsync(IRestoreTarget target, long offset, Memory<byte> buffer, int length, CancellationToken cancellationToken)
    {
        var have = 0;
        while (have < length)
        {
            var n = await target.ReadAsync(offset + have, buffer[have..length], cancellationToken).ConfigureAwait(false);
            if (n <= 0) break;
            have += n;
        }
        buffer.Span[have..length].Clear();
        return buffer[..length];
    }

    private void DecodeBlock(Revision revision, ChunkMap map, long block, Memory<byte> buffer, byte[] scratch)
    {
        var id = map.Entries[block];
        try
        {
            var n = _job.Chunks.Read(id, buffer.Span, scratch);
            if (n != map.LengthOf(block))
                throw new ChunkCorruptedException(id, null, _job.Chunks.PathOf(id), $"holds {n} bytes, the chunk map expects {map.LengthOf(block)}");
        }
        catch (ChunkCorruptedException e)
        {
            DistrustAllLocal();
            throw new BackyException($"cannot restore block {block} (offset {block * map.BlockSize}) of revision {revision.Id}: {e.Message}; all revisions are now distrusted", e);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> for every block on max(workers, target concurrency) tasks, each with its own
    /// block buffer and decode scratch; the first failure stops the others.
    /// </summary>
    private async Task ForEachBlockAsync(ChunkMap map, IRestoreTarget target, CancellationToken cancellationToken,
        Func<long, Memory<byte>, byte[], CancellationToken, Task> work)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tasks = Math.Max(Math.Max(1, _settings.Workers), target.Concurrency);
        long next = -1;
        var all = Task.WhenAll(Enumerable.Range(0, tasks).Select(_ => Task.Run(async () =>
        {
            // Aligned, so that a file target can read it with O_DIRECT.
            var buffer = AlignedBlock.Allocate(Blocks.Size);
            var scratch = GC.AllocateUninitializedArray<byte>(ChunkStore.ScratchSize);
            try
            {
                for (var block = Interlocked.Increment(ref next); block < map.BlockCount; block = Interlocked.Increment(ref next))
                {
                    stop.Token.ThrowIfCancellationRequested();
                    await work(block, buffer, scratch, stop.Token).ConfigureAwait(false);
                }
            }
            catch
            {
                await stop.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }, CancellationToken.None)));
        try
        {
            await all.ConfigureAwait(false);
        }
        catch when (all.Exception?.InnerExceptions.FirstOrDefault(e => e is not OperationCanceledException) is { } first)
        {
            // The others were only stopped because of it.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }
    }
}

/// <param name="Blocks">Blocks of the revision.</param>
/// <param name="WrittenBlocks">Blocks that differed and were written.</param>
public sealed record ChangedRestoreResult(long Blocks, long WrittenBlocks);
