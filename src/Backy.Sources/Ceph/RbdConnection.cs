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

    /// <summary>Connects and opens <paramref name="pool"/>. Errors name the pool; ENOENT = no such pool.</summary>
    public static RbdConnection Open(CephClientOptions options, string pool)
    {
        var connection = new RbdConnection(pool);
        try
        {
            connection.Connect(options);
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

    private void Connect(CephClientOptions options)
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
        LibRbdException.Check(LibRbd.rados_connect(_cluster), LibRbdException.Connecting, target);
        LibRbdException.Check(LibRbd.rados_ioctx_create(_cluster, Pool, out _ioctx), LibRbdException.OpeningPool, target);
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
