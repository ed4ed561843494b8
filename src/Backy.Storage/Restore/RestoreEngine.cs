using System.Diagnostics;
using Backy.Storage.Backup;
using Backy.Storage.Chunks;
using Backy.Storage.IO;
using Backy.Storage.Images;
using Backy.Storage.Jobs;
using Backy.Storage.Locks;
using Backy.Storage.Revisions;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Backy.Storage.Restore;

/// <summary>
/// Writes a revision's image out, read through <see cref="IRevisionImage"/> whatever its format: blocks are read and decoded in parallel (a bounded window ahead of
/// the writer) and written strictly in order. Holds the shared purge lock, so it runs beside a backup but
/// a purge waits for it. Regular files keep all-zero blocks as holes; block devices and streams get zeros.
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

    /// <summary>Restores to a stream (stdout for <c>-</c>), in order, holes as zeros.</summary>
    public Task RestoreToStreamAsync(Revision revision, Stream output, CancellationToken cancellationToken) =>
        RunAsync(revision, "stdout", new StreamTarget(output), cancellationToken);

    /// <summary>
    /// Restores to a file or block device. A regular file is truncated first so that holes stay holes; a
    /// device (anything under /dev) is overwritten in place, zeros included. Synced before returning.
    /// </summary>
    public async Task RestoreToFileAsync(Revision revision, string path, CancellationToken cancellationToken)
    {
        var device = Path.GetFullPath(path).StartsWith("/dev/", StringComparison.Ordinal);
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, device ? FileMode.Open : FileMode.Create, FileAccess.Write, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BackyException($"cannot write restore target '{path}': {e.Message}", e);
        }
        try
        {
            using (handle)
            using (var target = new FileTarget(handle, path, device))
            {
                await RunAsync(revision, path, target, cancellationToken).ConfigureAwait(false);
                DurableFile.FlushToDisk(handle, path);
            }
        }
        catch (Exception e) when (!device)
        {
            // A partial image must not be mistaken for the backup (and would keep holding the space it filled).
            DurableFile.TryDelete(path);
            if (e is IOException io)
                throw new BackyException($"cannot write restore target '{path}': {DurableFile.Reason(io)}; the partial file was removed", e);
            throw;
        }
    }

    private async Task RunAsync(Revision revision, string targetName, ITarget target, CancellationToken cancellationToken)
    {
        using var purgeLock = await JobLocks.AcquirePurgeSharedAsync(_job.Path, cancellationToken).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        using var image = RevisionImages.Open(_job, revision);
        _logger.RestoreStarted(revision.Id, image.Size, targetName);
        target.Prepare(image.Size);

        // A window of decodes runs ahead of the writer; each slot owns a block buffer.
        var capacity = 2 * Math.Max(1, _settings.Workers) + 1;
        var free = new Stack<Slot>();
        var window = new Queue<(long Block, Task? Decode, Slot? Slot)>();
        var slotsInUse = 0;
        try
        {
            for (long block = 0; block < image.BlockCount; block++)
            {
                while (slotsInUse >= capacity || window.Count >= 8 * capacity)
                    slotsInUse -= await WriteHeadAsync(window, free, image, target, revision, cancellationToken).ConfigureAwait(false);
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
                await WriteHeadAsync(window, free, image, target, revision, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Let decodes that are still running finish before their buffers (and the image) go away.
            foreach (var pending in window)
                if (pending.Decode is not null)
                    try { await pending.Decode.ConfigureAwait(false); } catch { /* already failing */ }
        }
        await target.FinishAsync(cancellationToken).ConfigureAwait(false);
        _logger.RestoreFinished(revision.Id, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Writes the oldest block of the window; returns 1 when it freed a slot.</summary>
    private async Task<int> WriteHeadAsync(Queue<(long Block, Task? Decode, Slot? Slot)> window, Stack<Slot> free, IRevisionImage image, ITarget target, Revision revision, CancellationToken cancellationToken)
    {
        var (block, decode, slot) = window.Dequeue();
        var offset = block * Blocks.Size;
        var length = image.LengthOf(block);
        if (decode is null)
        {
            await target.WriteHoleAsync(offset, Zeros[..length], cancellationToken).ConfigureAwait(false);
            return 0;
        }
        try { await decode.ConfigureAwait(false); }
        catch (ChunkCorruptedException e)
        {
            DistrustAllLocal();
            throw new BackyException($"cannot restore block {block} (offset {offset}) of revision {revision.Id}: {e.Message}; all revisions are now distrusted", e);
        }
        await target.WriteAsync(offset, slot!.Block[..length], cancellationToken).ConfigureAwait(false);
        free.Push(slot);
        return 1;
    }

    private void DistrustAllLocal()
    {
        try
        {
            foreach (var r in _job.CompleteRevisions().Where(r => r.IsLocal && r.Trust != Trust.Distrusted))
            {
                r.Trust = Trust.Distrusted;
                _job.WriteRevision(r);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or BackyException)
        {
            // The restore error is what the operator needs to see; distrust is best effort here.
        }
    }

    private sealed class Slot
    {
        // Aligned, so that a device or file target can take the block by direct I/O.
        public readonly Memory<byte> Block = AlignedBlock.Allocate(Blocks.Size);
    }

    private interface ITarget
    {
        void Prepare(long size);
        ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);
        ValueTask WriteHoleAsync(long offset, ReadOnlyMemory<byte> zeros, CancellationToken cancellationToken);
        Task FinishAsync(CancellationToken cancellationToken);
    }

    private sealed class StreamTarget(Stream stream) : ITarget
    {
        public void Prepare(long size) { }
        public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => stream.WriteAsync(data, cancellationToken);
        public ValueTask WriteHoleAsync(long offset, ReadOnlyMemory<byte> zeros, CancellationToken cancellationToken) => stream.WriteAsync(zeros, cancellationToken);
        public Task FinishAsync(CancellationToken cancellationToken) => stream.FlushAsync(cancellationToken);
    }
}
