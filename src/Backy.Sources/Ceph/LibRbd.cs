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

/// <summary>Linux pipe tuning for rbd's stdout.</summary>
internal static partial class PipeTuning
{
    private const int F_SETPIPE_SZ = 1031;

    /// <summary>
    /// 1 MiB instead of the default 64 KiB: rbd writes whole objects, and a bigger pipe means 16 times fewer
    /// wake-ups of reader and writer (the unprivileged limit, /proc/sys/fs/pipe-max-size, is 1 MiB by default).
    /// </summary>
    public const int PreferredSize = 1 << 20;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int cmd, int arg);

    /// <summary>
    /// Best effort: a pipe that keeps its default size still works, just with more wake-ups. Returns the pipe's
    /// new size, or -1 when it could not be changed.
    /// </summary>
    public static int TryEnlarge(Stream stream)
    {
        if (stream is not System.IO.Pipes.PipeStream pipe || !OperatingSystem.IsLinux()) return -1;
        try
        {
            return fcntl((int)pipe.SafePipeHandle.DangerousGetHandle(), F_SETPIPE_SZ, PreferredSize);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException or ObjectDisposedException)
        {
            return -1;
        }
    }
}
