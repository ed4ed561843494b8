using System.Runtime.InteropServices;

namespace Backy.Sources.Ceph;

/// <summary>
/// The few librados/librbd C functions the verification reads need (Debian: librados2, librbd1, installed with
/// ceph-common). Return values are 0 or a byte count on success, a negative errno on failure.
/// </summary>
internal static unsafe partial class LibRbd
{
    private const string Rados = "librados.so.2";
    private const string Rbd = "librbd.so.1";

    [LibraryImport(Rados, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rados_create2(out nint cluster, string clusterName, string name, ulong flags);

    [LibraryImport(Rados, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rados_conf_read_file(nint cluster, string? path);

    [LibraryImport(Rados)]
    internal static partial int rados_conf_parse_argv(nint cluster, int argc, byte** argv);

    [LibraryImport(Rados)]
    internal static partial int rados_connect(nint cluster);

    [LibraryImport(Rados)]
    internal static partial void rados_shutdown(nint cluster);

    [LibraryImport(Rados, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rados_ioctx_create(nint cluster, string poolName, out nint ioctx);

    [LibraryImport(Rados)]
    internal static partial void rados_ioctx_destroy(nint ioctx);

    [LibraryImport(Rbd, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rbd_open_read_only(nint ioctx, string name, out nint image, string? snapName);

    [LibraryImport(Rbd)]
    internal static partial int rbd_close(nint image);

    [LibraryImport(Rbd)]
    internal static partial int rbd_get_size(nint image, out ulong size);

    [LibraryImport(Rbd)]
    internal static partial nint rbd_read(nint image, ulong offset, nuint length, byte* buffer);
}
