namespace Backy.Storage.Reading;

/// <summary>
/// One block's worth of the <see cref="BlockCache"/>'s memory, holding either one decoded block or the decoded parts
/// of blocks (slots of one size). A pinned array: long-lived, so on the pinned object heap the GC never copies it
/// (thousands of 64 KiB parts would otherwise each be a buffer of their own, moved through every generation).
/// Measured and rejected: native memory (NativeMemory.AlignedAlloc) made nbdcopy of a 1 GiB revision about 10 %
/// slower, every slab being fresh mmap'ed pages, and transparent huge pages on it doubled the cost of a cold 4 KiB
/// read through the parts on the 2-core development VM (45-53 us against 23-26 us: a fresh 2 MiB page comes from
/// memory the VM never touched). Not thread-safe: the cache's lock guards it.
/// </summary>
internal sealed class CacheSlab
{
    private readonly byte[] _memory;
    private readonly Stack<int> _freeSlots = new();

    public CacheSlab(int size)
    {
        Size = size;
        _memory = GC.AllocateUninitializedArray<byte>(size, pinned: true);
    }

    public int Size { get; }

    /// <summary>The size of this slab's slots (the block size when it holds a whole block); 0 while unassigned.</summary>
    public int SlotSize { get; private set; }

    /// <summary>Slots holding an entry.</summary>
    public int Used { get; private set; }

    public bool HasRoom => SlotSize > 0 && _freeSlots.Count > 0;

    /// <summary>Whether the slab sits in the cache's list of slabs with room, or of empty slabs (each once; what a
    /// slab is when taken from a list is checked then).</summary>
    public bool Listed, ListedEmpty;

    /// <summary>Makes an empty slab hold slots of <paramref name="slotSize"/> bytes (a divisor of its size).</summary>
    public void Assign(int slotSize)
    {
        if (Used != 0) throw new InvalidOperationException("a slab in use cannot change its slot size");
        SlotSize = slotSize;
        _freeSlots.Clear();
        for (var slot = Size / slotSize - 1; slot >= 0; slot--) _freeSlots.Push(slot);
    }

    public int Take()
    {
        Used++;
        return _freeSlots.Pop();
    }

    public void Return(int slot)
    {
        Used--;
        _freeSlots.Push(slot);
    }

    public Span<byte> Slot(int slot) => _memory.AsSpan(slot * SlotSize, SlotSize);
}
