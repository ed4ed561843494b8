using System.Runtime.InteropServices;
using Backy.Storage.Backup;

namespace Backy.Sources.Ceph;

public sealed unsafe partial class RbdImage
{
    /// <summary>
    /// What changed from snapshot <paramref name="fromSnapshot"/> to the snapshot this handle is open at
    /// (<c>rbd_diff_iterate2</c>, the call behind <c>rbd export-diff</c>): sorted, non-overlapping extents, data or
    /// zeroes. <paramref name="wholeObject"/> reports whole objects, which lets librbd answer from the object map
    /// (fast-diff) without asking every object for its history; use it only when <see cref="HasValidFastDiff"/>,
    /// otherwise exact extents cost the same and are smaller.
    /// </summary>
    public IReadOnlyList<DiffExtent> DiffFrom(string fromSnapshot, bool wholeObject)
    {
        var extents = new List<DiffExtent>();
        var arg = GCHandle.Alloc(extents);
        try
        {
            LibRbdException.Check(
                LibRbd.rbd_diff_iterate2(Handle, fromSnapshot, 0, (ulong)Size, includeParent: 1, wholeObject: wholeObject ? (byte)1 : (byte)0,
                    &OnExtent, GCHandle.ToIntPtr(arg)),
                $"reading the diff from {fromSnapshot}", Spec);
        }
        finally
        {
            arg.Free();
        }
        // librbd reports objects in order; sorting and clipping to the image keep the contract even if a
        // striped image or a whole-object extent at the end does not.
        extents.Sort((a, b) => a.Offset.CompareTo(b.Offset));
        var result = new List<DiffExtent>(extents.Count);
        long end = 0;
        foreach (var e in extents)
        {
            var start = Math.Max(e.Offset, end);
            var stop = Math.Min(e.Offset + e.Length, Size);
            if (stop <= start) continue;
            result.Add(new DiffExtent(start, stop - start, e.IsZero));
            end = stop;
        }
        return result;
    }

    [UnmanagedCallersOnly]
    private static int OnExtent(ulong offset, nuint length, int exists, nint arg)
    {
        var extents = (List<DiffExtent>)GCHandle.FromIntPtr(arg).Target!;
        extents.Add(new DiffExtent((long)offset, (long)length, IsZero: exists == 0));
        return 0;
    }
}
