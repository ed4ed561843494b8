using System.Runtime.InteropServices;

namespace Backy.Storage.Reading;

/// <summary>
/// One block's worth of the <see cref="BlockCache"/>'s memory, holding either one decoded block or the decoded parts
/// of blocks (slots of one size). Native memory, outside the GC's heaps (thousands of long-lived buffers the GC would
/// otherwise age through its generations), page-aligned. Not advised as transparent huge pages: measured on the
/// 2-core development VM, a cold 4 KiB read through the parts cost 45-53 us with huge pages and 23-26 us without
/// (a fresh 2 MiB page comes from memory the VM never touched, and zeroing it is slow; 4 KiB pages are mostly
/// recycled ones). Freed by its finalizer once neither the cache nor a lease refers to it (a lease holds its entry,
/// the entry its slab). Not thread-safe: the cache's lock guards it.
/// </summary>
internal sealed unsafe class CacheSlab
{
    private readonly byte* _memory;
    private readonly Stack<int> _freeSlots = new();

    public CacheSlab(int size)
    {
        Size = size;
        var alignment = (nuint)Math.Min(4096, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)size));
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)size, alignment);
    }

    ~CacheSlab()
    {
        NativeMemory.AlignedFree(_memory);
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

    public Span<byte> Slot(int slot) => new(_memory + (long)slot * SlotSize, SlotSize);
}
