using Backy.Storage.Chunks;

namespace Backy.Storage.Reading;

/// <summary>
/// A bounded cache of decoded blocks and parts of blocks, keyed by <see cref="BlockKey"/> (so revisions sharing a
/// chunk share its decoded block). Its memory is at most <see cref="Capacity"/> slabs of one block each
/// (<see cref="CacheSlab"/>, allocated as first needed): a slab holds one decoded block or the decoded parts of
/// blocks (slots of one size, a divisor of the block size). The least recently used entry goes first; to free a
/// whole slab for a block, the other parts in the slab of an evicted part go with it. An entry is decoded once
/// however many readers ask for it at the same time (they wait for the first). A buffer in use by a reader is never
/// evicted or reused; when every cached buffer is in use, a reader decodes into a buffer of its own that is not
/// cached, so memory stays bounded by the budget plus the reads in flight. Thread-safe.
/// </summary>
public sealed class BlockCache
{
    /// <summary>Fills <paramref name="buffer"/> with a decoded block or part (the whole buffer is the entry's).</summary>
    public delegate void Fill(Span<byte> buffer);

    private readonly object _gate = new();
    private readonly Dictionary<BlockKey, Entry> _entries = [];
    private readonly LinkedList<Entry> _lru = []; // most recently used first
    private readonly Stack<CacheSlab> _emptySlabs = new(); // each slab once; may have been taken since: checked when popped
    private readonly Dictionary<int, Stack<CacheSlab>> _slabsWithRoom = []; // by slot size, each slab once; checked when popped
    private readonly int _blockSize;
    private int _slabs, _partSlabs;
    private long _partBudget;
    // Parts evicted lately (their keys only), oldest first; a key leaves when it is missed again or ages out.
    private readonly Dictionary<BlockKey, LinkedListNode<BlockKey>> _ghosts = [];
    private readonly LinkedList<BlockKey> _ghostOrder = [];

    public BlockCache(int capacity, int blockSize = Blocks.Size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _blockSize = blockSize;
        BudgetBytes = (long)capacity * blockSize;
        _partBudget = Math.Max(blockSize, BudgetBytes / 8);
    }

    /// <summary>The budget in whole blocks (slabs).</summary>
    public int Capacity { get; }

    /// <summary>
    /// The most slabs that may hold parts now. Parts serve small reads (a guest file system's metadata and files,
    /// random I/O). Given the whole budget from the start, a cold random reader made every read fill memory never
    /// touched before (the budget's first 256 MiB), and that first touch (page faults and zeroing, dearer still in
    /// a virtual machine) was a quarter to a third of the CPU of a cold 4 KiB NBD read (perf, `bench/nbd`). So parts
    /// start with an eighth of the budget, and recycle memory that is already paged in, and the share grows by a
    /// part's size for every miss on a part evicted lately (a ghost list of as many keys as the share holds parts,
    /// as in ARC): a working set larger than the share, such as a scan that cycles through more parts than fit,
    /// earns the memory it needs, up to the whole budget; reads that never come back cost none. It never shrinks.
    /// </summary>
    public int PartSlabLimit
    {
        get { lock (_gate) return PartSlabLimitLocked; }
    }

    private int PartSlabLimitLocked => (int)Math.Min(Capacity, (_partBudget + _blockSize - 1) / _blockSize);

    /// <summary>The most the cache's own memory may add up to.</summary>
    public long BudgetBytes { get; }

    /// <summary>What the cache's own memory (its slabs) adds up to now (for tests and logs).</summary>
    public long AllocatedBytes { get { lock (_gate) return (long)_slabs * _blockSize; } }

    /// <summary>Decoded blocks that were found in the cache, and those decoded (for tests and logs).</summary>
    public long Hits => Interlocked.Read(ref _hits);
    public long Misses => Interlocked.Read(ref _misses);
    private long _hits, _misses;

    /// <summary>
    /// The decoded block <paramref name="id"/>; <paramref name="decode"/> fills a buffer when it is not
    /// cached. Dispose the lease when done with its data. A failed decode is not cached: the next reader tries again.
    /// </summary>
    public Lease Get(BlockKey id, Fill decode) => Get(id, _blockSize, decode);

    /// <summary>
    /// The cached entry <paramref name="id"/> if it is there or being decoded (then after the decode); false, and
    /// nothing decoded, when it is not. A failed decode throws as in <see cref="Get(BlockKey, Fill)"/>.
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

    /// <summary>Whether <paramref name="id"/> is cached or being decoded (for tests and logs: it may go the moment after).</summary>
    public bool Contains(BlockKey id)
    {
        lock (_gate) return _entries.ContainsKey(id);
    }

    /// <summary>As <see cref="Get(BlockKey, Fill)"/>, for an entry of <paramref name="size"/> bytes (a part of a block).</summary>
    public Lease Get(BlockKey id, int size, Fill decode)
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
                entry = TakeLocked(id, size) ?? new Entry(id, GC.AllocateUninitializedArray<byte>(size));
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
    public bool TryPrefetch(BlockKey id, Fill decode)
    {
        Entry entry;
        lock (_gate)
        {
            if (_entries.ContainsKey(id)) return false;
            if (TakeLocked(id, _blockSize) is not { } taken) return false;
            entry = taken;
            entry.Refs = 1;
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
    /// A cached entry of <paramref name="size"/> bytes for <paramref name="id"/>, in a slot of a slab with room, of an
    /// empty slab, of a new slab within the budget, or of what eviction frees (the least recently used first); null
    /// when what is in use leaves no room.
    /// </summary>
    private Entry? TakeLocked(BlockKey id, int size)
    {
        var part = size < _blockSize;
        if (part && _ghosts.Remove(id, out var ghost))
        {
            _ghostOrder.Remove(ghost);
            _partBudget = Math.Min(BudgetBytes, _partBudget + size);
        }
        var partsFull = part && _partSlabs >= PartSlabLimitLocked;
        var slab = SlabWithRoomLocked(size);
        if (slab is null && !partsFull) slab = EmptySlabLocked() ?? NewSlabLocked();
        slab ??= EvictLocked(size, partsOnly: partsFull);
        if (slab is null) return null;
        if (slab.SlotSize != size)
        {
            if (slab.SlotSize is > 0 and var old && old < _blockSize) _partSlabs--;
            if (part) _partSlabs++;
            slab.Assign(size);
        }
        var entry = new Entry(id, slab, slab.Take());
        if (slab.HasRoom) ListWithRoomLocked(slab);
        return entry;
    }

    private CacheSlab? SlabWithRoomLocked(int size)
    {
        if (!_slabsWithRoom.TryGetValue(size, out var stack)) return null;
        while (stack.TryPop(out var slab))
        {
            slab.Listed = false;
            if (slab.SlotSize == size && slab.HasRoom) return slab;
        }
        return null;
    }

    private CacheSlab? EmptySlabLocked()
    {
        while (_emptySlabs.TryPop(out var slab))
        {
            slab.ListedEmpty = false;
            if (slab.Used == 0) return slab;
        }
        return null;
    }

    private CacheSlab? NewSlabLocked()
    {
        if (_slabs >= Capacity) return null;
        _slabs++;
        return new CacheSlab(_blockSize);
    }

    /// <summary>
    /// Evicts from the least recently used end until a slot of <paramref name="size"/> is free: an evicted entry of
    /// that size gives its slot; one of another size frees its slot, and the unused others of its slab go with it,
    /// so that the slab empties and takes the new size. With <paramref name="partsOnly"/> (parts at their limit) only
    /// entries of <paramref name="size"/> are evicted.
    /// </summary>
    private CacheSlab? EvictLocked(int size, bool partsOnly)
    {
        var node = _lru.Last;
        while (node is not null)
        {
            var victim = node.Value;
            node = node.Previous;
            if (victim.Refs > 0 || (partsOnly && victim.Slab!.SlotSize != size)) continue;
            var slab = victim.Slab!;
            RemoveLocked(victim);
            if (slab.SlotSize == size) return slab;
            foreach (var other in _lru.Where(e => e.Slab == slab && e.Refs == 0).ToList()) RemoveLocked(other);
            if (slab.Used == 0) return slab;
            node = _lru.Last; // the walk's next node may have gone with the slab
        }
        return null;
    }

    /// <summary>Evicts an unused entry: out of the cache, its slot given back, a part's key kept as a ghost.</summary>
    private void RemoveLocked(Entry entry)
    {
        _lru.Remove(entry.Node);
        _entries.Remove(entry.Id);
        var size = entry.Slab!.SlotSize;
        ReturnSlotLocked(entry);
        if (size >= _blockSize || _ghosts.ContainsKey(entry.Id)) return;
        _ghosts.Add(entry.Id, _ghostOrder.AddLast(entry.Id));
        while (_ghostOrder.Count > Math.Max(1, _partBudget / size))
        {
            _ghosts.Remove(_ghostOrder.First!.Value);
            _ghostOrder.RemoveFirst();
        }
    }

    private void ReturnSlotLocked(Entry entry)
    {
        var slab = entry.Slab!;
        slab.Return(entry.Slot);
        // With room for its size again (an empty one too: parts at their share's limit may only use part slabs),
        // and when empty, free for any size.
        ListWithRoomLocked(slab);
        if (slab.Used == 0 && !slab.ListedEmpty)
        {
            _emptySlabs.Push(slab);
            slab.ListedEmpty = true;
        }
    }

    private void ListWithRoomLocked(CacheSlab slab)
    {
        if (slab.Listed) return;
        if (!_slabsWithRoom.TryGetValue(slab.SlotSize, out var stack)) _slabsWithRoom[slab.SlotSize] = stack = new Stack<CacheSlab>();
        stack.Push(slab);
        slab.Listed = true;
    }

    private void Release(Entry entry)
    {
        lock (_gate)
        {
            entry.Refs--;
            // A failed entry was taken out of the cache; its slot goes back once nobody reads it.
            if (entry.Refs == 0 && entry.Failed && entry.Cached) ReturnSlotLocked(entry);
        }
    }

    internal sealed class Entry
    {
        private readonly byte[]? _own;

        /// <summary>A cached entry, in <paramref name="slot"/> of <paramref name="slab"/>.</summary>
        public Entry(BlockKey id, CacheSlab slab, int slot)
        {
            Id = id;
            Slab = slab;
            Slot = slot;
            Node = new LinkedListNode<Entry>(this);
        }

        /// <summary>An entry outside the cache, in a buffer of its own.</summary>
        public Entry(BlockKey id, byte[] own)
        {
            Id = id;
            _own = own;
            Node = new LinkedListNode<Entry>(this);
        }

        public BlockKey Id { get; }
        public CacheSlab? Slab { get; }
        public int Slot { get; }
        public bool Cached => Slab is not null;
        public Span<byte> Buffer => _own ?? Slab!.Slot(Slot);
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
