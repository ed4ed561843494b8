using System.Runtime.InteropServices;

namespace Backy.Sources.Ceph;

public sealed unsafe partial class RbdImage
{
    /// <summary>The image's snapshots (user namespace; what <c>rbd snap ls</c> shows).</summary>
    public IReadOnlyList<RbdSnapshot> ListSnapshots()
    {
        var max = 16;
        while (true)
        {
            var snaps = new LibRbd.SnapInfo[max];
            fixed (LibRbd.SnapInfo* p = snaps)
            {
                var count = LibRbd.rbd_snap_list(Handle, p, ref max);
                if (count == -34 /* ERANGE: max now says how many */) continue;
                LibRbdException.Check(count, "listing the snapshots", Spec);
                try
                {
                    var result = new RbdSnapshot[count];
                    for (var i = 0; i < count; i++)
                        result[i] = new RbdSnapshot((long)p[i].Id, Marshal.PtrToStringUTF8((nint)p[i].Name) ?? "", (long)p[i].Size);
                    return result;
                }
                finally
                {
                    LibRbd.rbd_snap_list_end(p);
                }
            }
        }
    }

    /// <summary>Takes snapshot <paramref name="name"/>; EEXIST when it exists already.</summary>
    public void CreateSnapshot(string name) =>
        LibRbdException.Check(LibRbd.rbd_snap_create(Handle, name), $"creating snapshot {name}", Spec);

    /// <summary>Removes snapshot <paramref name="name"/>; EBUSY when it is protected.</summary>
    public void RemoveSnapshot(string name) =>
        LibRbdException.Check(LibRbd.rbd_snap_remove(Handle, name), $"removing snapshot {name}", Spec);

    /// <summary>Protects snapshot <paramref name="name"/> from removal (<c>rbd snap protect</c>); EBUSY when it is protected already.</summary>
    public void ProtectSnapshot(string name) =>
        LibRbdException.Check(LibRbd.rbd_snap_protect(Handle, name), $"protecting snapshot {name}", Spec);

    /// <summary>Lifts the protection (<c>rbd snap unprotect</c>); EBUSY while clones of the snapshot exist, EINVAL when it is not protected.</summary>
    public void UnprotectSnapshot(string name) =>
        LibRbdException.Check(LibRbd.rbd_snap_unprotect(Handle, name), $"unprotecting snapshot {name}", Spec);

    public bool IsSnapshotProtected(string name)
    {
        LibRbdException.Check(LibRbd.rbd_snap_is_protected(Handle, name, out var isProtected), $"looking up the protection of snapshot {name}", Spec);
        return isProtected != 0;
    }

    /// <summary>Whether snapshot <paramref name="name"/> exists now (refreshes the handle when another client changed the image).</summary>
    public bool SnapshotExists(string name)
    {
        LibRbdException.Check(LibRbd.rbd_snap_exists(Handle, name, out var exists), $"looking up snapshot {name}", Spec);
        return exists;
    }
}
