using Backy.Storage.Chunks;

namespace Backy.Storage.Reading;

/// <summary>
/// A bounded cache of decoded blocks and parts of blocks, keyed by <see cref="BlockKey"/> (so revisions sharing a
/// chunk share its decoded block). Entries are of any size (a 4 MiB block, a 64 KiB part): the buffers the cache
/// owns, in use, cached or free, add up to at most <see cref="BudgetBytes"/> (<see cref="Capacity"/> blocks); the
/// least recently used entry goes first, and a free buffer of another size is dropped to make room. An entry is
/// decoded once however many readers ask for it at the same time (they wait for the first). A buffer in use by a
/// reader is never evicted or reused; when every cached buffer is in use, a reader decodes into a buffer of its own
/// that is not cached, so memory stays bounded by the budget plus the reads in flight. Thread-safe.
/// </summary>
public sealed class BlockCache
{
    private readonly object _gate = new();
    private readonly Dictionary<BlockKey, Entry> _entries = [];
    private readonly LinkedList<Entry> _lru = []; // most recently used first
    private readonly Dictionary<int, Stack<byte[]>> _free = [];
    private readonly int _blockSize;
    private long _allocatedBytes;

    public BlockCache(int capacity, int blockSize = Blocks.Size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _blockSize = blockSize;
        BudgetBytes = (long)capacity * blockSize;
    }

    /// <summary>The budget in whole blocks.</summary>
    public int Capacity { get; }

    /// <summary>The most the cache's own buffers may add up to.</summary>
    public long BudgetBytes { get; }

    /// <summary>What the cache's own buffers add up to now (for tests and logs).</summary>
    public long AllocatedBytes { get { lock (_gate) return _allocatedBytes; } }

    /// <summary>Decoded blocks that were found in the cache, and those decoded (for tests and logs).</summary>
    public long Hits => Interlocked.Read(ref _hits);
    public long Misses => Interlocked.Read(ref _misses);
    private long _hits, _misses;

    /// <summary>
    /// The decoded block <paramref name="id"/>; <paramref name="decode"/> fills a buffer when it is not
    /// cached. Dispose the lease when done with its data. A failed decode is not cached: the next reader tries again.
    /// </summary>
    public Lease Get(BlockKey id, Action<byte[]> decode) => Get(id, _blockSize, decode);

    /// <summary>
    /// The cached entry <paramref name="id"/> if it is there or being decoded (then after the decode); false, and
    /// nothing decoded, when it is not. A failed decode throws as in <see cref="Get(BlockKey, Action{byte[]})"/>.
    /// </summary>
    public bool TryGet(BlockKey id, out Lease lease)
    {
        Entry entry;
        lock (_gate)
        {
            if (!_entries.TryGetValue(id, out var found))
            {
                lease = default;
                return false;
            }
            entry = found;
            entry.Refs++;
            _lru.Remove(entry.Node);
            _lru.AddFirst(entry.Node);
        }
        Interlocked.Increment(ref _hits);
        try { entry.Ready.Task.GetAwaiter().GetResult(); }
        catch
        {
            Release(entry);
            throw;
        }
        lease = new Lease(this, entry);
        return true;
    }

    /// <summary>As <see cref="Get(BlockKey, Action{byte[]})"/>, for an entry of <paramref name="size"/> bytes (a part of a block).</summary>
    public Lease Get(BlockKey id, int size, Action<byte[]> decode)
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
                var buffer = TakeBufferLocked(size);
                entry = new Entry(id, buffer ?? GC.AllocateUninitializedArray<byte>(size), cached: buffer is not null);
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
            var buffer = TakeBufferLocked(_blockSize);
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

    /// <summary>
    /// A buffer of <paramref name="size"/> bytes for a new entry: a free one, a new one within the budget (after
    /// dropping free buffers of other sizes), or an evicted one (the least recently used first; one of another size
    /// is dropped, freeing its bytes); null when what is in use leaves no room.
    /// </summary>
    private byte[]? TakeBufferLocked(int size)
    {
        if (_free.TryGetValue(size, out var same) && same.Count > 0) return same.Pop();
        if (_allocatedBytes + size > BudgetBytes)
            foreach (var (length, stack) in _free)
                while (stack.Count > 0 && _allocatedBytes + size > BudgetBytes)
                {
                    stack.Pop();
                    _allocatedBytes -= length;
                }
        var node = _lru.Last;
        while (_allocatedBytes + size > BudgetBytes && node is not null)
        {
            var victim = node.Value;
            node = node.Previous;
            if (victim.Refs > 0) continue;
            _lru.Remove(victim.Node);
            _entries.Remove(victim.Id);
            if (victim.Buffer.Length == size) return victim.Buffer;
            _allocatedBytes -= victim.Buffer.Length;
        }
        if (_allocatedBytes + size > BudgetBytes) return null;
        _allocatedBytes += size;
        // Pinned: the buffers live long, and on the pinned heap the GC never copies them (a 64 KiB part is no
        // large object, and thousands of them would otherwise be moved through every generation).
        return GC.AllocateUninitializedArray<byte>(size, pinned: true);
    }

    private void Release(Entry entry)
    {
        lock (_gate)
        {
            entry.Refs--;
            // A failed entry was taken out of the cache; its buffer goes back to the free list once nobody reads it.
            if (entry.Refs == 0 && entry.Failed && entry.Cached)
            {
                if (!_free.TryGetValue(entry.Buffer.Length, out var stack)) _free[entry.Buffer.Length] = stack = new Stack<byte[]>();
                stack.Push(entry.Buffer);
            }
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
