using System.Runtime.InteropServices;
using System.Text;
using Backy.Storage;

namespace Backy.Sources.Ceph;

/// <summary>
/// One librados client connection and one pool's I/O context: what every rbd process would build for itself,
/// built once per backup or restore. The client settings map like this (the rbd CLI's own rules):
/// <list type="bullet">
/// <item><c>CEPH_CLUSTER</c>: the cluster name given to <c>rados_create2</c> (it picks <c>/etc/ceph/NAME.conf</c>).</item>
/// <item><c>--conf/-c</c> in <c>CEPH_ARGS</c>, else <c>CEPH_CONF</c>: the file for <c>rados_conf_read_file</c>; neither
/// = librados's default search (<c>$CEPH_CONF</c>, <c>/etc/ceph/$cluster.conf</c>, <c>~/.ceph/$cluster.conf</c>).</item>
/// <item><c>--id/--user/-i</c>, <c>--name/-n</c> in <c>CEPH_ARGS</c>: the client name for <c>rados_create2</c>
/// (default <c>client.admin</c>).</item>
/// <item>the rest of <c>CEPH_ARGS</c>: <c>rados_conf_parse_argv</c>, so <c>--mon-host</c>, <c>--keyring</c> or any
/// <c>--option value</c> work as with the CLI.</item>
/// </list>
/// The client's <c>client mount timeout</c> and <c>rados osd op timeout</c> bound how long a dead cluster can
/// make a call wait (librbd calls cannot be cancelled).
/// </summary>
public sealed unsafe class RbdConnection : IDisposable
{
    private nint _cluster;
    private nint _ioctx;

    private RbdConnection(string pool) => Pool = pool;

    public string Pool { get; }

    internal nint IoContext => _ioctx != 0 ? _ioctx : throw new ObjectDisposedException(nameof(RbdConnection));

    /// <summary>
    /// Connects and opens <paramref name="pool"/>. Errors name the pool; ENOENT = no such pool. <paramref name="zeroCopyWrites"/>:
    /// the connection writes images (a restore) from buffers that the caller leaves untouched until each write
    /// completed (see <see cref="Connect"/>); without it librbd copies every write.
    /// </summary>
    public static RbdConnection Open(CephClientOptions options, string pool, bool zeroCopyWrites = false)
    {
        var connection = new RbdConnection(pool);
        try
        {
            connection.Connect(options, zeroCopyWrites);
            return connection;
        }
        catch (DllNotFoundException e)
        {
            connection.Dispose();
            throw new BackyException($"cannot reach Ceph pool '{pool}' through librbd: {e.Message} (install librbd1)", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void Connect(CephClientOptions options, bool zeroCopyWrites)
    {
        var target = $"pool '{Pool}'";
        var args = CephClientArguments.Parse(options.CephArgs);
        LibRbdException.Check(LibRbd.rados_create2(out _cluster, options.Cluster ?? "ceph", args.Name, 0), "creating the client", target);
        // null = the default search (CEPH_CONF of this process, /etc/ceph/$cluster.conf, ...). Finding nothing
        // there is no error, as for the rbd CLI ("did not load config file, using default settings"): CEPH_ARGS
        // may carry everything (--mon-host ...). A file named explicitly must exist.
        var conf = args.ConfFile ?? options.ConfFile;
        var rc = LibRbd.rados_conf_read_file(_cluster, conf);
        if (!(conf is null && rc == -LibRbdException.ENOENT))
            LibRbdException.Check(rc, LibRbdException.ReadingConfig, target);
        if (args.Rest.Count > 0) ParseArgv(args.Rest, target);
        if (zeroCopyWrites)
        {
            // A restore writes from the engine's block buffers and leaves each untouched until its write completed.
            // librbd's C API then sends from that memory (rbd_aio_write with zero-copy: the completion waits until
            // librbd released the buffer), as `rbd import` does with its own bufferlists; the default
            // (rbd_disable_zero_copy_writes=true) copies every 4 MiB block into freshly allocated memory, which
            // cost a restore into a new image 0.3 of its 1.7 CPU-s (memmove, page faults, munmap; perf, 2 GiB).
            // Zero-copy needs the client cache off: librbd's write-around cache (the default) acknowledges a write
            // when it is sent and so always copies. Without the cache a write completes when the OSD committed it;
            // the restore keeps RbdRestoreTarget.WritesInFlight of them pending and flushes once at the end.
            Set("rbd_cache", "false", target);
            Set("rbd_disable_zero_copy_writes", "false", target);
        }
        else
        {
            // Any other connection hands rbd_aio_write nothing it would refill (it writes no image data; snapshot
            // operations only): librbd's default copy stays, set rather than trusted to a config file.
            Set("rbd_disable_zero_copy_writes", "true", target);
        }
        LibRbdException.Check(LibRbd.rados_connect(_cluster), LibRbdException.Connecting, target);
        LibRbdException.Check(LibRbd.rados_ioctx_create(_cluster, Pool, out _ioctx), LibRbdException.OpeningPool, target);
    }

    private void Set(string option, string value, string target) =>
        LibRbdException.Check(LibRbd.rados_conf_set(_cluster, option, value), $"setting {option}", target);

    /// <summary>The client's value of a config option (<c>rados_conf_get</c>), as librbd will read it.</summary>
    public string ConfigValue(string option)
    {
        var buffer = stackalloc byte[256];
        LibRbdException.Check(LibRbd.rados_conf_get(_cluster != 0 ? _cluster : throw new ObjectDisposedException(nameof(RbdConnection)), option, buffer, 256),
            $"reading option {option}", $"pool '{Pool}'");
        return Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(buffer));
    }

    private void ParseArgv(IReadOnlyList<string> rest, string target)
    {
        // argv[0] is the program name, as in main(); librados skips it.
        var all = new[] { "backy" }.Concat(rest).Select(a => Encoding.UTF8.GetBytes(a + "\0")).ToArray();
        var handles = all.Select(b => GCHandle.Alloc(b, GCHandleType.Pinned)).ToArray();
        try
        {
            var argv = stackalloc byte*[all.Length];
            for (var i = 0; i < all.Length; i++) argv[i] = (byte*)handles[i].AddrOfPinnedObject();
            LibRbdException.Check(LibRbd.rados_conf_parse_argv(_cluster, all.Length, argv), "parsing CEPH_ARGS", target);
        }
        finally
        {
            foreach (var h in handles) h.Free();
        }
    }

    /// <summary>Opens the image for writing (snapshot operations, restore) or at <paramref name="snapshot"/> read-only.</summary>
    public RbdImage OpenImage(string image, string? snapshot = null, bool readOnly = false) =>
        RbdImage.Open(this, image, snapshot, readOnly || snapshot is not null);

    /// <summary>Creates an image of <paramref name="size"/> bytes with the cluster's defaults, as <c>rbd create</c> does.</summary>
    public void CreateImage(string image, long size)
    {
        LibRbd.rbd_image_options_create(out var options);
        try
        {
            LibRbdException.Check(LibRbd.rbd_create4(IoContext, image, (ulong)size, options), "creating the image", $"{Pool}/{image}");
        }
        finally
        {
            LibRbd.rbd_image_options_destroy(options);
        }
    }

    public void Dispose()
    {
        if (_ioctx != 0) { LibRbd.rados_ioctx_destroy(_ioctx); _ioctx = 0; }
        if (_cluster != 0) { LibRbd.rados_shutdown(_cluster); _cluster = 0; }
    }
}
