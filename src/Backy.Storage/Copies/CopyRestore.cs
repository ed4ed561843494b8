using System.Diagnostics;
using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.IO;
using Backy.Storage.Revisions;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Backy.Storage.Copies;

/// <summary>
/// <c>restore --from</c>: writes a revision of a copy out without the backup server. A window of GETs runs ahead
/// of the writer (the store's latency is hidden by parallel requests, memory is bounded by the window); blocks
/// are written strictly in order, each checked (decoded, hashed, authenticated) before it is written. A regular
/// file keeps holes as holes and is removed again if the restore fails; a device or stdout gets zeros.
/// </summary>
public sealed class CopyRestore(CopyRepository copy, ILogger logger, int parallelism = CopyEngine.DefaultParallelism)
{
    private static readonly byte[] Zeros = new byte[Blocks.Size];

    public async Task RestoreToStreamAsync(Revision revision, Stream output, CancellationToken cancellationToken)
    {
        await RunAsync(revision, "stdout", (_, data) => output.Write(data.Span), null, cancellationToken).ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task RestoreToFileAsync(Revision revision, string path, CancellationToken cancellationToken)
    {
        var device = Path.GetFullPath(path).StartsWith("/dev/", StringComparison.Ordinal);
        SafeFileHandle handle;
        try { handle = File.OpenHandle(path, device ? FileMode.Open : FileMode.Create, FileAccess.Write, FileShare.Read); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BackyException($"cannot write restore target '{path}': {e.Message}", e);
        }
        try
        {
            using (handle)
            {
                await RunAsync(revision, path, (offset, data) => RandomAccess.Write(handle, data.Span, offset),
                    device ? null : size => RandomAccess.SetLength(handle, size), cancellationToken).ConfigureAwait(false);
                DurableFile.FlushToDisk(handle, path);
            }
        }
        catch (Exception e) when (!device)
        {
            DurableFile.TryDelete(path);
            if (e is IOException io)
                throw new BackyException($"cannot write restore target '{path}': {DurableFile.Reason(io)}; the partial file was removed", e);
            throw;
        }
    }

    /// <param name="write">Writes one block at its offset.</param>
    /// <param name="sparse">Sizes a sparse target (holes are then skipped), or null to write zeros for holes.</param>
    private async Task RunAsync(Revision revision, string targetName, Action<long, ReadOnlyMemory<byte>> write, Action<long>? sparse, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var map = await copy.ReadChunkMapAsync(revision.Id, cancellationToken).ConfigureAwait(false);
        logger.CopyRestoreStarted(revision.Id, map.ImageSize, copy.Url, targetName);
        sparse?.Invoke(map.ImageSize);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var free = new Stack<Slot>();
        var window = new Queue<(long Block, Task<Slot>? Fetch)>();
        var capacity = 2 * parallelism;
        var inFlight = 0;
        try
        {
            for (long block = 0; block <= map.BlockCount; block++)
            {
                while (window.Count > 0 && (inFlight >= capacity || block == map.BlockCount || window.Count >= 8 * capacity))
                {
                    var (head, fetch) = window.Dequeue();
                    var offset = head * map.BlockSize;
                    var length = map.LengthOf(head);
                    if (fetch is null)
                    {
                        if (sparse is null) write(offset, Zeros.AsMemory(0, length));
                        continue;
                    }
                    var slot = await fetch.ConfigureAwait(false);
                    write(offset, slot.Block.AsMemory(0, length));
                    free.Push(slot);
                    inFlight--;
                }
                if (block == map.BlockCount) break;
                if (map.IsHole(block)) { window.Enqueue((block, null)); continue; }
                var s = free.Count > 0 ? free.Pop() : new Slot();
                inFlight++;
                window.Enqueue((block, FetchAsync(map, block, s, cancel.Token)));
            }
        }
        catch
        {
            await cancel.CancelAsync().ConfigureAwait(false);
            foreach (var (_, fetch) in window)
                if (fetch is not null)
                    try { await fetch.ConfigureAwait(false); } catch { /* already failing */ }
            throw;
        }
        logger.CopyRestoreFinished(revision.Id, clock.Elapsed.TotalSeconds);
    }

    private async Task<Slot> FetchAsync(ChunkMap map, long block, Slot slot, CancellationToken cancellationToken)
    {
        var id = map.Entries[block];
        int n;
        try { n = await copy.ReadChunkAsync(id, slot.Block, slot.Stored, slot.Plain, cancellationToken).ConfigureAwait(false); }
        catch (BackyException e) when (e is ChunkCorruptedException or CopyDamagedException)
        {
            throw new BackyException($"cannot restore block {block} (offset {block * map.BlockSize}) from {copy.Url}: {e.Message}", e);
        }
        if (n != map.LengthOf(block))
            throw new BackyException($"cannot restore block {block} from {copy.Url}: chunk {id} holds {n} bytes, the chunk map expects {map.LengthOf(block)}");
        return slot;
    }

    private sealed class Slot
    {
        public readonly byte[] Block = GC.AllocateUninitializedArray<byte>(Blocks.Size);
        public readonly byte[] Stored = GC.AllocateUninitializedArray<byte>(CopyRepository.ChunkObjectCapacity);
        public readonly byte[] Plain = GC.AllocateUninitializedArray<byte>(ChunkStore.ScratchSize);
    }
}
