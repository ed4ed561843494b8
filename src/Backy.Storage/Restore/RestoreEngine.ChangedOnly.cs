using System.Diagnostics;
using Backy.Storage.Chunks;
using Backy.Storage.Images;
using Backy.Storage.IO;
using Backy.Storage.Locks;
using Backy.Storage.Progress;
using Backy.Storage.Revisions;

namespace Backy.Storage.Restore;

public sealed partial class RestoreEngine
{
    /// <summary>
    /// A changed-blocks restore (<c>restore --changed-only</c>): reads the target block by block, hashes each block
    /// and writes only the blocks whose hash differs from the revision's chunk id (holes: blocks that are not all
    /// zero), then flushes and reads the written blocks back. Rolling a disk back after a few changed blocks then
    /// costs a read of the disk instead of a write of all of it, and unchanged blocks need no chunk read or
    /// decompression. Reads the revision through <see cref="RevisionImages"/> like every restore; a block of a
    /// format without our chunk ids (the original's) is read and compared byte for byte. Returns only when the
    /// target is bit-identical to the revision; anything else throws.
    /// </summary>
    public async Task<ChangedRestoreResult> RestoreChangedAsync(Revision revision, IRestoreTarget target, CancellationToken cancellationToken)
    {
        try { return await RestoreChangedUnderPurgeLockAsync(revision, target, cancellationToken).ConfigureAwait(false); }
        catch (Exception e) when (Unwrap(e) is BadBlockException bad)
        {
            // Outside the shared purge lock, through the revision store (lock order, one writer).
            var distrust = await DistrustAllAsync(bad.Corruption.Message, cancellationToken).ConfigureAwait(false);
            throw new BackyException($"{bad.Message}; {distrust}", bad.Corruption);
        }
    }

    private static Exception Unwrap(Exception e) => e is AggregateException { InnerExceptions.Count: 1 } a ? Unwrap(a.InnerExceptions[0]) : e;

    private async Task<ChangedRestoreResult> RestoreChangedUnderPurgeLockAsync(Revision revision, IRestoreTarget target, CancellationToken cancellationToken)
    {
        using var purgeLock = await JobLocks.AcquirePurgeSharedAsync(_job.Path, cancellationToken).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        using var image = RevisionImages.Open(_job, revision);
        _logger.RestoreStarted(revision.Id, image.Size, target.Name + " (changed blocks only)");
        await target.PrepareAsync(image.Size, cancellationToken).ConfigureAwait(false);

        var written = new bool[image.BlockCount];
        var progress = new ProgressCounter("restore", Progress, image.BlockCount);
        await ForEachBlockAsync(image.BlockCount, target, cancellationToken, async (block, buffer, revisionBlock, token) =>
        {
            var length = image.LengthOf(block);
            var offset = block * Blocks.Size;
            var current = await ReadTargetBlockAsync(target, offset, buffer, length, token).ConfigureAwait(false);
            if (Matches(image, revision, block, current, revisionBlock))
            {
                progress.Add(1, length);
                return;
            }
            if (image.IsHole(block))
                await target.WriteZeroesAsync(offset, length, token).ConfigureAwait(false);
            else
            {
                ReadRevisionBlock(image, revision, block, buffer.Span);
                await target.WriteAsync(offset, buffer[..length], token).ConfigureAwait(false);
            }
            written[block] = true;
            progress.Add(1, length, length);
        }).ConfigureAwait(false);
        await target.FlushAsync(cancellationToken).ConfigureAwait(false);

        // Exit 0 means "bit-identical": read back what was written (the rest matched when it was read).
        await ForEachBlockAsync(image.BlockCount, target, cancellationToken, async (block, buffer, revisionBlock, token) =>
        {
            if (!written[block]) return;
            var current = await ReadTargetBlockAsync(target, block * Blocks.Size, buffer, image.LengthOf(block), token).ConfigureAwait(false);
            if (!Matches(image, revision, block, current, revisionBlock))
                throw new BackyException($"restore target {target.Name}: block {block} (offset {block * Blocks.Size}) still differs from revision {revision.Id} after writing it");
        }).ConfigureAwait(false);

        var result = new ChangedRestoreResult(image.BlockCount, written.LongCount(w => w));
        _logger.ChangedRestoreFinished(revision.Id, target.Name, result.WrittenBlocks, result.Blocks, clock.Elapsed.TotalSeconds);
        return result;
    }

    /// <summary>
    /// Whether the target's block equals the revision's: a hole is all zeroes; a chunk of ours is compared by its
    /// id (XxHash128 of the block, no chunk read); anything else is read into <paramref name="revisionBlock"/> and
    /// compared byte for byte.
    /// </summary>
    private bool Matches(IRevisionImage image, Revision revision, long block, Memory<byte> current, byte[] revisionBlock)
    {
        if (image.IsHole(block)) return Blocks.IsAllZero(current.Span);
        if (image.ChunkOf(block) is { Store: ChunkStoreKind.Current } chunk) return ChunkId.Of(current.Span) == chunk.Id;
        ReadRevisionBlock(image, revision, block, revisionBlock);
        return current.Span.SequenceEqual(revisionBlock.AsSpan(0, current.Length));
    }

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

    private void ReadRevisionBlock(IRevisionImage image, Revision revision, long block, Span<byte> destination)
    {
        try
        {
            if (!image.ReadBlock(block, destination)) destination[..image.LengthOf(block)].Clear();
        }
        catch (ChunkCorruptedException e)
        {
            throw new BadBlockException($"cannot restore block {block} (offset {block * Blocks.Size}) of revision {revision.Id}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> for every block on max(workers, target concurrency) tasks, each with its own
    /// aligned block buffer (a file target reads it with O_DIRECT) and a second one for revision blocks that need a
    /// byte comparison; the first failure stops the others.
    /// </summary>
    private async Task ForEachBlockAsync(long blockCount, IRestoreTarget target, CancellationToken cancellationToken,
        Func<long, Memory<byte>, byte[], CancellationToken, Task> work)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tasks = Math.Max(Math.Max(1, _settings.Workers), target.Concurrency);
        long next = -1;
        var all = Task.WhenAll(Enumerable.Range(0, tasks).Select(_ => Task.Run(async () =>
        {
            var buffer = AlignedBlock.Allocate(Blocks.Size);
            // Only blocks without one of our chunk ids (the original format) are compared byte for byte in it.
            byte[]? revisionBlock = null;
            try
            {
                for (var block = Interlocked.Increment(ref next); block < blockCount; block = Interlocked.Increment(ref next))
                {
                    stop.Token.ThrowIfCancellationRequested();
                    revisionBlock ??= GC.AllocateUninitializedArray<byte>(Blocks.Size);
                    await work(block, buffer, revisionBlock, stop.Token).ConfigureAwait(false);
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
