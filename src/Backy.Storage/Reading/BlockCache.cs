using Backy.Storage.Chunks;

namespace Backy.Storage.Reading;

/// <summary>
/// A bounded cache of decoded blocks, keyed by <see cref="BlockKey"/> (so revisions sharing a chunk share its decoded block).
/// At most <see cref="Capacity"/> buffers of one block each are cached; a block is decoded once however many
/// readers ask for it at the same time (they wait for the first). A buffer in use by a reader is never
/// evicted or reused; when every cached buffer is in use, a reader decodes into a buffer of its own that is
/// not cached, so memory stays bounded by the capacity plus the reads in flight. Thread-safe.
/// </summary>
public sealed class BlockCache
{
    private readonly object _gate = new();
    private readonly Dictionary<BlockKey, Entry> _entries = [];
    private readonly LinkedList<Entry> _lru = []; // most recently used first
    private readonly Stack<byte[]> _free = new();
    private readonly int _blockSize;
    private int _allocated;

    public BlockCache(int capacity, int blockSize = Blocks.Size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _blockSize = blockSize;
    }

    public int Capacity { get; }

    /// <summary>Decoded blocks that were found in the cache, and those decoded (for tests and logs).</summary>
    public long Hits => Interlocked.Read(ref _hits);
    public long Misses => Interlocked.Read(ref _misses);
    private long _hits, _misses;

    /// <summary>
    /// The decoded block <paramref name="id"/>; <paramref name="decode"/> fills a buffer when it is not
    /// cached. Dispose the lease when done with its data. A failed decode is not cached: the next reader tries again.
    /// </summary>
    public Lease Get(BlockKey id, Action<byte[]> decode)
    {
        Entry entry;
        bool owner;
        lock (_gate)
        {
            if (_entries.TryGetValue(id, out var found))
            {
                entry = found;
                entry.Refs++;
                _lru.Remove(entry.Node);
                _lru.AddFirst(entry.Node);
                owner = false;
            }
            else
            {
                var buffer = TakeBufferLocked();
                entry = new Entry(id, buffer ?? GC.AllocateUninitializedArray<byte>(_blockSize), cached: buffer is not null);
                entry.Refs = 1;
                if (entry.Cached)
                {
                    _entries.Add(id, entry);
                    _lru.AddFirst(entry.Node);
                }
                owner = true;
            }
        }
        if (owner)
        {
            Interlocked.Increment(ref _misses);
            try
            {
                decode(entry.Buffer);
                entry.Ready.SetResult();
            }
            catch (Exception e)
            {
                lock (_gate)
                {
                    if (entry.Cached && _entries.Remove(id)) _lru.Remove(entry.Node);
                    entry.Failed = true;
                }
                entry.Ready.SetException(e);
                Release(entry);
                throw;
            }
        }
        else
        {
            Interlocked.Increment(ref _hits);
            try { entry.Ready.Task.GetAwaiter().GetResult(); }
            catch
            {
                Release(entry);
                throw;
            }
        }
        return new Lease(this, entry);
    }

    /// <summary>
    /// Read-ahead: decodes block <paramref name="id"/> into the cache unless it is there or being decoded already.
    /// Never waits for another decode and never decodes outside the cache (when every buffer is in use it does
    /// nothing), so read-ahead costs no memory beyond the capacity. A failed decode is dropped silently: the read
    /// that needs the block decodes it again and reports the failure. Returns whether it decoded.
    /// </summary>
    public bool TryPrefetch(BlockKey id, Action<byte[]> decode)
    {
        Entry entry;
        lock (_gate)
        {
            if (_entries.ContainsKey(id)) return false;
            var buffer = TakeBufferLocked();
            if (buffer is null) return false;
            entry = new Entry(id, buffer, cached: true) { Refs = 1 };
            _entries.Add(id, entry);
            // Most recently used, as a read: at the tail, the next miss would evict it before its reader came.
            _lru.AddFirst(entry.Node);
        }
        Interlocked.Increment(ref _prefetches);
        try
        {
            decode(entry.Buffer);
            entry.Ready.SetResult();
        }
        catch (Exception e)
        {
            lock (_gate)
            {
                if (_entries.Remove(id)) _lru.Remove(entry.Node);
                entry.Failed = true;
            }
            entry.Ready.SetException(e);
            _ = entry.Ready.Task.Exception; // observed: waiters, if any, get it from Get
            Release(entry);
            return false;
        }
        Release(entry);
        return true;
    }

    /// <summary>Blocks decoded by <see cref="TryPrefetch"/> (for logs).</summary>
    public long Prefetches => Interlocked.Read(ref _prefetches);
    private long _prefetches;

    /// <summary>A buffer for a new entry: a free one, a new one below capacity, or an evicted one; null when all are in use.</summary>
    private byte[]? TakeBufferLocked()
    {
        if (_free.Count > 0) return _free.Pop();
        if (_allocated < Capacity)
        {
            _allocated++;
            return GC.AllocateUninitializedArray<byte>(_blockSize);
        }
        for (var node = _lru.Last; node is not null; node = node.Previous)
        {
            var victim = node.Value;
            if (victim.Refs > 0) continue;
            _lru.Remove(node);
            _entries.Remove(victim.Id);
            return victim.Buffer;
        }
        return null;
    }

    private void Release(Entry entry)
    {
        lock (_gate)
        {
            entry.Refs--;
            // A failed entry was taken out of the cache; its buffer goes back to the free list once nobody reads it.
            if (entry.Refs == 0 && entry.Failed && entry.Cached) _free.Push(entry.Buffer);
        }
    }

    internal sealed class Entry
    {
        public Entry(BlockKey id, byte[] buffer, bool cached)
        {
            Id = id;
            Buffer = buffer;
            Cached = cached;
            Node = new LinkedListNode<Entry>(this);
        }

        public BlockKey Id { get; }
        public byte[] Buffer { get; }
        public bool Cached { get; }
        public LinkedListNode<Entry> Node { get; }
        public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Refs;
        public bool Failed;
    }

    /// <summary>Read access to one decoded block until disposed.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly BlockCache _cache;
        private readonly Entry _entry;

        internal Lease(BlockCache cache, Entry entry)
        {
            _cache = cache;
            _entry = entry;
        }

        public ReadOnlySpan<byte> Data => _entry.Buffer;

        public void Dispose() => _cache?.Release(_entry);
    }
}
