using Backy.Storage.Chunks;

namespace Backy.Storage.Copies;

public sealed partial class CopyEngine
{
    /// <summary>
    /// Uploads the chunks in parallel: each worker owns one buffer set (the local file, its decoded block for
    /// the check, the sealed object), so memory is bounded by the parallelism whatever the revision's size.
    /// A chunk that fails its local check stops the copy (it must not spread to the copy); the revision is then
    /// not made visible.
    /// </summary>
    private async Task<(long Chunks, long Bytes)> UploadChunksAsync(IReadOnlyList<ChunkId> ids, ChunkPresenceRecord record, DateTimeOffset? lockUntil, CancellationToken cancellationToken)
    {
        if (ids.Count == 0) return (0, 0);
        long chunks = 0, bytes = 0;
        var buffers = new System.Collections.Concurrent.ConcurrentBag<Buffers>();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = _parallelism, CancellationToken = cancellationToken }, async (id, ct) =>
        {
            if (!buffers.TryTake(out var b)) b = new Buffers();
            try
            {
                var length = ReadChecked(id, b);
                await _copy.PutChunkAsync(id, b.File.AsMemory(0, length), b.Sealed, lockUntil, ct).ConfigureAwait(false);
                record.Add(id, lockUntil);
                Interlocked.Increment(ref chunks);
                Interlocked.Add(ref bytes, length);
                _progress.Add(1, length, length);
            }
            finally { buffers.Add(b); }
        }).ConfigureAwait(false);
        return (chunks, bytes);
    }

    /// <summary>
    /// Extends the Object Lock of chunk objects that are already in the copy to <paramref name="until"/>, so that none
    /// of them can go before <paramref name="needed"/> (the new revision's own lock). The record knows the dates it
    /// set; one it does not know (rebuilt from a listing) is asked for once. Returns how many were extended.
    /// </summary>
    private async Task<int> ExtendLocksAsync(IReadOnlyList<ChunkId> ids, DateTimeOffset needed, DateTimeOffset until, ChunkPresenceRecord record, CancellationToken cancellationToken)
    {
        var extended = 0;
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = _parallelism, CancellationToken = cancellationToken }, async (id, ct) =>
        {
            var key = _copy.ChunkKey(id);
            if (record.RetainUntil(id) is null && await _copy.Store.GetRetentionAsync(key, ct).ConfigureAwait(false) is { } current && current >= needed)
            {
                record.Add(id, current);
                return;
            }
            await _copy.Store.ExtendRetentionAsync(key, until, ct).ConfigureAwait(false);
            record.Add(id, until);
            Interlocked.Increment(ref extended);
        }).ConfigureAwait(false);
        return extended;
    }

    /// <summary>Reads the local chunk file into <c>b.File</c>, decodes and hashes it; returns the file's length.</summary>
    private int ReadChecked(ChunkId id, Buffers b)
    {
        var path = _job.Chunks.PathOf(id);
        int read;
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var length = RandomAccess.GetLength(handle);
            if (length > b.File.Length) throw new ChunkCorruptedException(id, null, path, $"file too large ({length} bytes)");
            read = 0;
            while (read < length)
            {
                var n = RandomAccess.Read(handle, b.File.AsSpan(read, (int)length - read), read);
                if (n == 0) break;
                read += n;
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ChunkCorruptedException(id, null, path, "missing");
        }
        var blockLength = ChunkStore.DecodeImage(id, path, b.File.AsSpan(0, read), b.Block);
        var actual = ChunkId.Of(b.Block.AsSpan(0, blockLength));
        if (actual != id) throw new ChunkCorruptedException(id, actual, path, $"content hashes to {actual}");
        return read;
    }

    private sealed class Buffers
    {
        public readonly byte[] File = GC.AllocateUninitializedArray<byte>(ChunkStore.ScratchSize);
        public readonly byte[] Block = GC.AllocateUninitializedArray<byte>(Blocks.Size);
        public readonly byte[] Sealed = GC.AllocateUninitializedArray<byte>(CopyRepository.ChunkObjectCapacity);
    }
}
