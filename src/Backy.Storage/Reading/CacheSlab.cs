using System.Runtime.InteropServices;
using Backy.Storage.IO;

namespace Backy.Storage.Reading;

/// <summary>
/// One block's worth of the <see cref="BlockCache"/>'s memory, holding either one decoded block or the decoded parts
/// of blocks (slots of one size). Native memory, aligned and advised as transparent huge pages where the block is at
/// least one huge page: a cold read fills a fresh buffer, and on 4 KiB pages every 64 KiB part cost 16 page faults,
/// a quarter of a cold 4 KiB NBD read's CPU (perf, `bench/nbd`); with huge pages a 4 MiB slab costs two. Freed by
/// its finalizer once neither the cache nor a lease refers to it (a lease holds its entry, the entry its slab).
/// Not thread-safe: the cache's lock guards it.
/// </summary>
internal sealed unsafe class CacheSlab
{
    private const int HugePage = 2 * 1024 * 1024;
    private readonly byte* _memory;
    private readonly Stack<int> _freeSlots = new();

    public CacheSlab(int size)
    {
        Size = size;
        var alignment = size >= HugePage ? HugePage : (nuint)Math.Min(4096, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)size));
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)size, alignment);
        // Advice only: without transparent huge pages (or off Linux) the memory is simply paged in 4 KiB pages.
        if (size >= HugePage && OperatingSystem.IsLinux()) _ = Posix.Madvise(_memory, (nuint)size, Posix.MADV_HUGEPAGE);
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
