using System.Collections.Concurrent;
using Backy.Storage.IO;

namespace Backy.Storage.Chunks;

/// <summary>
/// Writes chunk files for one backup. Each chunk goes to a temp file first; <see cref="Commit"/> syncs
/// the file system once, renames the temp files to their final names and syncs again. So a chunk file
/// under its final name is always complete on disk (the store's rule "a chunk that exists is good"
/// holds after a crash), at the cost of one sync per batch instead of one per chunk.
/// Thread-safe; batches commit by themselves every <see cref="BatchSize"/> chunks to bound memory.
/// </summary>
public sealed class ChunkWriteSession : IDisposable
{
    /// <summary>1 GiB of chunks: large enough to amortise the sync, small enough to bound the pending list.</summary>
    public const int BatchSize = 256;

    private readonly ChunkStore _store;
    private readonly bool _forcedWrite;
    private readonly ChunkCompression _compression;
    // Claimed: ids this session is writing or has written but not committed (dedup within one image).
    private readonly ConcurrentDictionary<ChunkId, byte> _claimed = new();
    // Ready: temp files completely written, waiting for the next commit.
    private readonly ConcurrentQueue<(ChunkId Id, string Temp)> _ready = new();
    private readonly object _commitLock = new();
    private long _chunksWritten;
    private long _bytesWritten;

    public ChunkWriteSession(ChunkStore store, bool forcedWrite, ChunkCompression? compression = null)
    {
        _store = store;
        _forcedWrite = forcedWrite;
        _compression = compression ?? ChunkCompression.Default;
    }

    public long ChunksWritten => Interlocked.Read(ref _chunksWritten);
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <summary>
    /// Stores the block unless a chunk with its id exists already (or is pending in this session).
    /// In forced-write mode an existing chunk file is written again. Returns true when a file was written.
    /// </summary>
    public bool Write(ChunkId id, ReadOnlySpan<byte> data, byte[] scratch)
    {
        if (_claimed.ContainsKey(id)) return false;
        var final = _store.PathOf(id);
        if (!_forcedWrite && File.Exists(final)) return false;
        if (!_claimed.TryAdd(id, 0)) return false;
        var temp = DurableFile.TempPathFor(final);
        var length = ChunkStore.Encode(data, scratch, _compression);
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        try
        {
            using var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            RandomAccess.Write(handle, scratch.AsSpan(0, length), 0);
            DurableFile.StartWriteback(handle, 0, length);
        }
        catch (IOException e)
        {
            // A half-written temp file (e.g. the disk is full) is not in the ready queue: remove it here.
            DurableFile.TryDelete(temp);
            _claimed.TryRemove(id, out _); // not written: a later attempt in this session must not skip it
            throw new BackyException($"cannot write chunk file '{final}': {DurableFile.Reason(e)}", e);
        }
        _ready.Enqueue((id, temp));
        Interlocked.Increment(ref _chunksWritten);
        Interlocked.Add(ref _bytesWritten, length);
        if (_ready.Count >= BatchSize) Commit();
        return true;
    }

    /// <summary>Makes every chunk written so far durable under its final name.</summary>
    public void Commit()
    {
        lock (_commitLock)
        {
            if (_ready.IsEmpty) return;
            var batch = new List<(ChunkId Id, string Temp)>();
            while (_ready.TryDequeue(out var item)) batch.Add(item);
            DurableFile.SyncFileSystem(_store.Directory);
            foreach (var (id, temp) in batch)
            {
                File.Move(temp, _store.PathOf(id), overwrite: true);
            }
            DurableFile.SyncFileSystem(_store.Directory);
            // Committed chunks exist under their final names now, so the claim is no longer needed.
            foreach (var (id, _) in batch) _claimed.TryRemove(id, out _);
        }
    }

    /// <summary>Without a commit, the temp files are removed: nothing of this session stays.</summary>
    public void Dispose()
    {
        while (_ready.TryDequeue(out var item)) DurableFile.TryDelete(item.Temp);
        _claimed.Clear();
    }
}
