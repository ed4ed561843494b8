using System.Diagnostics;
using Backy.Storage.Backup;
using Backy.Storage.Chunks;
using Backy.Storage.IO;
using Backy.Storage.Images;
using Backy.Storage.Jobs;
using Backy.Storage.Locks;
using Backy.Storage.Progress;
using Backy.Storage.Revisions;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Restore;

/// <summary>
/// Writes a revision's image out to an <see cref="IImageTarget"/>, read through <see cref="IRevisionImage"/> whatever
/// its format: blocks are read and decoded in parallel (a bounded window ahead of the writer) and written strictly in
/// order. Holds the shared purge lock, so it runs beside a backup but a purge waits for it. The image (chunk map) is
/// opened before the target. A bad chunk distrusts every revision through the job's <see cref="RevisionStore"/> (after
/// the purge lock is released: lock order). Split by concern: <c>.Distrust</c>.
/// </summary>
public sealed partial class RestoreEngine
{
    private readonly JobDirectory _job;
    private readonly ILogger _logger;
    private readonly BackupSettings _settings;
    private static readonly ReadOnlyMemory<byte> Zeros = AlignedBlock.Allocate(Blocks.Size); // aligned, so that a device gets its zeros by direct I/O too

    public RestoreEngine(JobDirectory job, ILogger logger, BackupSettings? settings = null)
    {
        _job = job;
        _logger = logger;
        _settings = settings ?? BackupSettings.Default;
    }

    /// <summary>Where the restore reports how far it is: blocks written of the image's blocks, bytes of the image
    /// read from the revision (holes read nothing) and written to the target. A changed-blocks restore counts the
    /// blocks it compared; its read-back of the written blocks at the end is not counted.</summary>
    public IProgress<OperationProgress>? Progress { get; init; }

    /// <summary>Restores to a .NET stream, in order, holes as zeros.</summary>
    public Task RestoreToStreamAsync(Revision revision, Stream output, CancellationToken cancellationToken) =>
        RestoreAsync(revision, new StreamTarget(output), cancellationToken);

    /// <summary>Restores to stdout (fd 1) by write(2): a reader that closes the pipe is an error, not a success.</summary>
    public Task RestoreToStdoutAsync(Revision revision, CancellationToken cancellationToken) =>
        RestoreAsync(revision, new StdoutTarget(), cancellationToken);

    /// <summary>Restores to a path: a regular file, a block or character device, a FIFO (see <see cref="PathTarget"/>).</summary>
    public Task RestoreToFileAsync(Revision revision, string path, CancellationToken cancellationToken) =>
        RestoreAsync(revision, new PathTarget(path), cancellationToken);

    /// <summary>
    /// Restores <paramref name="revision"/> into <paramref name="target"/> (which this disposes). Any failure after the
    /// target was opened is one <see cref="BackyException"/> line that ends with what the target holds now
    /// (<see cref="IImageTarget.Abandon"/>).
    /// </summary>
    private async Task RestoreAsync(Revision revision, IImageTarget target, CancellationToken cancellationToken)
    {
        using var tracked = new TrackedTarget(target);
        try
        {
            await RunUnderPurgeLockAsync(revision, tracked, cancellationToken).ConfigureAwait(false);
        }
        catch (BadBlockException e)
        {
            var left = tracked.Abandon();
            // Outside the shared purge lock: taking .backup while holding .purge would invert the lock order.
            var distrust = await DistrustAllAsync(e.Corruption.Message, cancellationToken).ConfigureAwait(false);
            throw new BackyException($"{e.Message}; {distrust}{left}", e.Corruption);
        }
        catch (BackyException e) when (tracked.Opened)
        {
            throw new BackyException(e.Message + tracked.Abandon(), e);
        }
        catch (IOException e) when (tracked.Opened)
        {
            throw new BackyException($"cannot write restore target '{target.Name}': {DurableFile.Reason(e)}{tracked.Abandon()}", e);
        }
        catch (Exception) when (tracked.Opened)
        {
            tracked.Abandon(); // cancelled: nothing of a partial image that this restore created stays behind
            throw;
        }
    }

    private async Task RunUnderPurgeLockAsync(Revision revision, TrackedTarget target, CancellationToken cancellationToken)
    {
        using var purgeLock = await JobLocks.AcquirePurgeSharedAsync(_job.Path, cancellationToken).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        // Opened before the target: a target that is the chunk map itself is refused, never truncated first.
        using var image = RevisionImages.Open(_job, revision);
        _logger.RestoreStarted(revision.Id, image.Size, target.Name);
        target.Open(image.Size, _job.Path);
        var progress = new ProgressCounter("restore", Progress, image.BlockCount);

        // A window of decodes runs ahead of the writer; each slot owns a block buffer, from its decode until its
        // write completed (a target that sends from the buffer, librbd, keeps several writes pending).
        var writesInFlight = Math.Max(1, target.WritesInFlight);
        var capacity = 2 * Math.Max(1, _settings.Workers) + 1 + writesInFlight - 1;
        var free = new Stack<Slot>();
        var window = new Queue<(long Block, Task? Decode, Slot? Slot)>();
        var writes = new Queue<(Task Write, Slot Slot)>();
        var slotsInUse = 0;
        try
        {
            for (long block = 0; block < image.BlockCount; block++)
            {
                while (slotsInUse >= capacity || window.Count >= 8 * capacity)
                {
                    if (window.Count > 0)
                        slotsInUse -= await WriteHeadAsync(window, writes, writesInFlight, free, image, target, revision, progress, cancellationToken).ConfigureAwait(false);
                    else
                        slotsInUse -= await CompleteOldestWriteAsync(writes, free).ConfigureAwait(false);
                }
                if (image.IsHole(block))
                {
                    window.Enqueue((block, null, null));
                    continue;
                }
                var slot = free.Count > 0 ? free.Pop() : new Slot();
                slotsInUse++;
                var b = block;
                window.Enqueue((block, Task.Run(() => image.ReadBlock(b, slot.Block.Span), cancellationToken), slot));
            }
            while (window.Count > 0)
                await WriteHeadAsync(window, writes, writesInFlight, free, image, target, revision, progress, cancellationToken).ConfigureAwait(false);
            while (writes.Count > 0)
                await CompleteOldestWriteAsync(writes, free).ConfigureAwait(false);
        }
        finally
        {
            // Let decodes and writes that are still running finish before their buffers (and the image) go away.
            foreach (var pending in window)
                if (pending.Decode is not null)
                    try { await pending.Decode.ConfigureAwait(false); } catch { /* already failing */ }
            foreach (var pending in writes)
                try { await pending.Write.ConfigureAwait(false); } catch { /* already failing */ }
        }
        await target.CompleteAsync(cancellationToken).ConfigureAwait(false);
        _logger.RestoreFinished(revision.Id, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Writes the oldest block of the window; returns how many slots came free (its own, when the target was done
    /// with the buffer at once, and those of earlier writes that completed meanwhile or had to be waited for).
    /// </summary>
    private async Task<int> WriteHeadAsync(Queue<(long Block, Task? Decode, Slot? Slot)> window, Queue<(Task Write, Slot Slot)> writes, int writesInFlight,
        Stack<Slot> free, IRevisionImage image, IImageTarget target, Revision revision, ProgressCounter progress, CancellationToken cancellationToken)
    {
        var (block, decode, slot) = window.Dequeue();
        var offset = block * Blocks.Size;
        var length = image.LengthOf(block);
        if (decode is null)
        {
            await target.WriteZerosAsync(offset, Zeros[..length], cancellationToken).ConfigureAwait(false);
            progress.Add(1, 0, length);
            return 0;
        }
        try { await decode.ConfigureAwait(false); }
        catch (ChunkCorruptedException e)
        {
            throw new BadBlockException($"cannot restore block {block} (offset {offset}) of revision {revision.Id}: {e.Message}", e);
        }
        var write = target.WriteAsync(offset, slot!.Block[..length], cancellationToken);
        progress.Add(1, length, length);
        if (write.IsCompletedSuccessfully)
        {
            free.Push(slot);
            return 1;
        }
        writes.Enqueue((write.AsTask(), slot));
        var freed = 0;
        while (writes.Count >= writesInFlight || writes.Peek().Write.IsCompleted)
        {
            freed += await CompleteOldestWriteAsync(writes, free).ConfigureAwait(false);
            if (writes.Count == 0) break;
        }
        return freed;
    }

    /// <summary>Waits for the oldest pending write (its failure surfaces here) and frees its slot.</summary>
    private static async Task<int> CompleteOldestWriteAsync(Queue<(Task Write, Slot Slot)> writes, Stack<Slot> free)
    {
        var (write, slot) = writes.Peek();
        await write.ConfigureAwait(false);
        writes.Dequeue();
        free.Push(slot);
        return 1;
    }

    private sealed class Slot
    {
        // Aligned, so that a device or file target can take the block by direct I/O.
        public readonly Memory<byte> Block = AlignedBlock.Allocate(Blocks.Size);
    }

    /// <summary>A chunk of the revision is missing or corrupt: carried out of the purge lock to distrust.</summary>
    private sealed class BadBlockException(string message, ChunkCorruptedException corruption) : Exception(message, corruption)
    {
        public ChunkCorruptedException Corruption { get; } = corruption;
    }

    /// <summary>Knows whether the target was opened, so that only an opened target is abandoned, once.</summary>
    private sealed class TrackedTarget(IImageTarget inner) : IImageTarget
    {
        private bool _abandoned;
        public bool Opened { get; private set; }
        public string Name => inner.Name;

        public void Open(long imageSize, string jobDirectory)
        {
            Opened = true; // a half-done open (file created, then refused) is abandoned too
            inner.Open(imageSize, jobDirectory);
        }

        public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => inner.WriteAsync(offset, data, cancellationToken);
        public int WritesInFlight => inner.WritesInFlight;
        public ValueTask WriteZerosAsync(long offset, ReadOnlyMemory<byte> zeros, CancellationToken cancellationToken) => inner.WriteZerosAsync(offset, zeros, cancellationToken);
        public Task CompleteAsync(CancellationToken cancellationToken) => inner.CompleteAsync(cancellationToken);

        /// <summary>"; what is left" for the error line, or "" when the target was never opened.</summary>
        public string Abandon()
        {
            if (!Opened || _abandoned) return "";
            _abandoned = true;
            try { return inner.Abandon() is { Length: > 0 } left ? "; " + left : ""; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or BackyException) { return $"; cannot clean up the target: {e.Message}"; }
        }

        public void Dispose() => inner.Dispose();
    }
}
