using System.Runtime.InteropServices;

namespace Backy.Sources.Ceph;

/// <summary>
/// The librados/librbd C functions Backy uses (Debian: librados2, librbd1, installed with ceph-common), declared
/// after /usr/include/rados/librados.h and /usr/include/rbd/librbd.h of Ceph 16. Return values are 0 or a byte
/// count on success, a negative errno on failure. Only <see cref="RbdConnection"/> and <see cref="RbdImage"/> call
/// these.
/// </summary>
internal static unsafe partial class LibRbd
{
    private const string Rados = "librados.so.2";
    private const string Rbd = "librbd.so.1";

    /// <summary>features.h: the object map's per-snapshot diff, used by <c>rbd_diff_iterate2(whole_object=1)</c>.</summary>
    internal const ulong FeatureFastDiff = 1UL << 4;

    /// <summary>librbd.h: the fast-diff data of this image or snapshot cannot be trusted (librbd then falls back).</summary>
    internal const ulong FlagFastDiffInvalid = 1UL << 1;

    /// <summary>librbd.h <c>rbd_snap_info_t</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct SnapInfo
    {
        public ulong Id;
        public ulong Size;
        public byte* Name;
    }

    [LibraryImport(Rados, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rados_create2(out nint cluster, string clusterName, string name, ulong flags);

    [LibraryImport(Rados, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rados_conf_read_file(nint cluster, string? path);

    [LibraryImport(Rados)]
    internal static partial int rados_conf_parse_argv(nint cluster, int argc, byte** argv);

    [LibraryImport(Rados, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rados_conf_set(nint cluster, string option, string value);

    [LibraryImport(Rados, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rados_conf_get(nint cluster, string option, byte* buffer, nuint length);

    [LibraryImport(Rados)]
    internal static partial int rados_connect(nint cluster);

    [LibraryImport(Rados)]
    internal static partial void rados_shutdown(nint cluster);

    [LibraryImport(Rados, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rados_ioctx_create(nint cluster, string poolName, out nint ioctx);

    [LibraryImport(Rados)]
    internal static partial void rados_ioctx_destroy(nint ioctx);

    [LibraryImport(Rbd, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rbd_open(nint ioctx, string name, out nint image, string? snapName);

    [LibraryImport(Rbd, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rbd_open_read_only(nint ioctx, string name, out nint image, string? snapName);

    [LibraryImport(Rbd)]
    internal static partial int rbd_close(nint image);

    [LibraryImport(Rbd)]
    internal static partial void rbd_image_options_create(out nint options);

    [LibraryImport(Rbd)]
    internal static partial void rbd_image_options_destroy(nint options);

    /// <summary>Creates an image with the cluster's defaults (rbd_default_features, order 22), as <c>rbd create</c>.</summary>
    [LibraryImport(Rbd, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rbd_create4(nint ioctx, string name, ulong size, nint options);

    [LibraryImport(Rbd)]
    internal static partial int rbd_get_size(nint image, out ulong size);

    [LibraryImport(Rbd)]
    internal static partial int rbd_get_features(nint image, out ulong features);

    [LibraryImport(Rbd)]
    internal static partial int rbd_get_flags(nint image, out ulong flags);

    [LibraryImport(Rbd)]
    internal static partial int rbd_resize(nint image, ulong size);

    /// <summary>Fills <paramref name="snaps"/>; -ERANGE with <paramref name="maxSnaps"/> raised when it is too small.</summary>
    [LibraryImport(Rbd)]
    internal static partial int rbd_snap_list(nint image, SnapInfo* snaps, ref int maxSnaps);

    [LibraryImport(Rbd)]
    internal static partial void rbd_snap_list_end(SnapInfo* snaps);

    [LibraryImport(Rbd, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rbd_snap_create(nint image, string snapName);

    [LibraryImport(Rbd, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rbd_snap_remove(nint image, string snapName);

    /// <summary>Protects a snapshot so that it cannot be removed (clone format 1 needs it before cloning).</summary>
    [LibraryImport(Rbd, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rbd_snap_protect(nint image, string snapName);

    /// <summary>-EBUSY while clones of the snapshot exist.</summary>
    [LibraryImport(Rbd, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rbd_snap_unprotect(nint image, string snapName);

    [LibraryImport(Rbd, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rbd_snap_is_protected(nint image, string snapName, out int isProtected);

    [LibraryImport(Rbd, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rbd_snap_exists(nint image, string snapName, [MarshalAs(UnmanagedType.U1)] out bool exists);

    /// <summary>
    /// Calls <paramref name="callback"/>(offset, length, exists, arg) for every extent that differs between
    /// <paramref name="fromSnapName"/> and the snapshot the handle is open at, in ascending order, on the calling thread.
    /// </summary>
    [LibraryImport(Rbd, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rbd_diff_iterate2(nint image, string? fromSnapName, ulong offset, ulong length,
        byte includeParent, byte wholeObject, delegate* unmanaged<ulong, nuint, int, nint, int> callback, nint arg);

    [LibraryImport(Rbd)]
    internal static partial int rbd_aio_create_completion(nint arg, delegate* unmanaged<nint, nint, void> callback, out nint completion);

    [LibraryImport(Rbd)]
    internal static partial nint rbd_aio_get_return_value(nint completion);

    [LibraryImport(Rbd)]
    internal static partial void rbd_aio_release(nint completion);

    [LibraryImport(Rbd)]
    internal static partial int rbd_aio_read(nint image, ulong offset, nuint length, byte* buffer, nint completion);

    [LibraryImport(Rbd)]
    internal static partial int rbd_aio_write(nint image, ulong offset, nuint length, byte* buffer, nint completion);

    /// <summary>Zeroes a range for sure (discards where whole objects allow, writes zeroes elsewhere): unlike
    /// rbd_discard it never skips pieces smaller than rbd_discard_granularity_bytes.</summary>
    [LibraryImport(Rbd)]
    internal static partial int rbd_aio_write_zeroes(nint image, ulong offset, nuint length, nint completion, int zeroFlags, int opFlags);

    [LibraryImport(Rbd)]
    internal static partial int rbd_aio_flush(nint image, nint completion);
}
