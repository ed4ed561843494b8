using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backy.Storage.IO;

/// <summary>
/// A block buffer whose start is aligned to <see cref="Alignment"/> bytes, as O_DIRECT writes require.
/// It lives on the pinned object heap, so the address never moves and the GC still owns the memory.
/// </summary>
public static class AlignedBlock
{
    /// <summary>The page size: enough for every logical block size Linux supports for O_DIRECT.</summary>
    public const int Alignment = 4096;

    public static Memory<byte> Allocate(int length)
    {
        var array = GC.AllocateArray<byte>(length + Alignment, pinned: true); // zeroed: the restore engine's hole buffer relies on it
        var misalignment = (int)(Address(array) & (Alignment - 1));
        var start = misalignment == 0 ? 0 : Alignment - misalignment;
        return array.AsMemory(start, length);
    }

    /// <summary>True when a direct write of <paramref name="data"/> at <paramref name="offset"/> is allowed.</summary>
    public static bool IsDirectWritable(ReadOnlySpan<byte> data, long offset) =>
        data.Length > 0 && (data.Length & (Alignment - 1)) == 0 && (offset & (Alignment - 1)) == 0 &&
        (Address(data) & (Alignment - 1)) == 0;

    private static unsafe long Address(ReadOnlySpan<byte> data) =>
        (long)Unsafe.AsPointer(ref MemoryMarshal.GetReference(data));
}
