using Backy.Storage;
using System.Runtime.InteropServices;
using System.Text;

namespace Backy.Sources.Ceph;

/// <summary>
/// Random-access reads of one RBD snapshot through librbd, for the post-backup verification. The rbd CLI has no
/// way to read a byte range (<c>rbd export</c> always streams the whole image) and this machine has no kernel
/// mapping (<c>rbd map</c>, rbd-nbd), so librbd is the only way to read just the sampled blocks. The client
/// settings come from the same <see cref="CephClientOptions"/> as the CLI's (<c>CEPH_ARGS</c>, <c>CEPH_CONF</c>,
/// <c>CEPH_CLUSTER</c>). librbd image handles are thread-safe, so reads may run concurrently.
/// </summary>
public sealed unsafe class RbdSnapshotReader : IDisposable
{
    private nint _cluster;
    private nint _ioctx;
    private nint _image;
    private readonly string _spec;

    private RbdSnapshotReader(string spec) => _spec = spec;

    public long Size { get; private set; }

    public static RbdSnapshotReader Open(CephClientOptions options, RbdImageSpec image, string snapshot)
    {
        var reader = new RbdSnapshotReader(image.At(snapshot));
        try
        {
            reader.Connect(options, image, snapshot);
            return reader;
        }
        catch (DllNotFoundException e)
        {
            reader.Dispose();
            throw new BackyException($"cannot read {image.At(snapshot)} through librbd: {e.Message} (install librbd1)", e);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    private void Connect(CephClientOptions options, RbdImageSpec image, string snapshot)
    {
        var args = ClientArguments.Parse(options.CephArgs);
        Check(LibRbd.rados_create2(out _cluster, options.Cluster ?? "ceph", args.Name, 0), "creating the client");
        // null = the default search (CEPH_CONF of this process, /etc/ceph/$cluster.conf, ...).
        Check(LibRbd.rados_conf_read_file(_cluster, args.ConfFile ?? options.ConfFile), "reading the Ceph config");
        if (args.Rest.Count > 0) ParseArgv(args.Rest);
        Check(LibRbd.rados_connect(_cluster), "connecting to the cluster");
        Check(LibRbd.rados_ioctx_create(_cluster, image.Pool, out _ioctx), $"opening pool '{image.Pool}'");
        Check(LibRbd.rbd_open_read_only(_ioctx, image.Image, out _image, snapshot), "opening the snapshot");
        Check(LibRbd.rbd_get_size(_image, out var size), "reading the size");
        Size = (long)size;
    }

    private void ParseArgv(IReadOnlyList<string> rest)
    {
        // argv[0] is the program name, as in main(); librados skips it.
        var all = new[] { "backy" }.Concat(rest).Select(a => Encoding.UTF8.GetBytes(a + "\0")).ToArray();
        var handles = all.Select(b => GCHandle.Alloc(b, GCHandleType.Pinned)).ToArray();
        try
        {
            var argv = stackalloc byte*[all.Length];
            for (var i = 0; i < all.Length; i++) argv[i] = (byte*)handles[i].AddrOfPinnedObject();
            Check(LibRbd.rados_conf_parse_argv(_cluster, all.Length, argv), "parsing CEPH_ARGS");
        }
        finally
        {
            foreach (var h in handles) h.Free();
        }
    }

    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/>; fewer only at the end of the image.</summary>
    public int ReadAt(long offset, Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_image == 0, this);
        if (offset >= Size) return 0;
        var length = (int)Math.Min(buffer.Length, Size - offset);
        var total = 0;
        fixed (byte* p = buffer)
        {
            while (total < length)
            {
                var n = LibRbd.rbd_read(_image, (ulong)(offset + total), (nuint)(length - total), p + total);
                if (n < 0) Check((int)n, $"reading {length} bytes at offset {offset}");
                if (n == 0) break;
                total += (int)n;
            }
        }
        return total;
    }

    private void Check(int rc, string what)
    {
        if (rc >= 0) return;
        throw new BackyException($"librbd: {what} of {_spec} failed: {Marshal.GetPInvokeErrorMessage(-rc)} (errno {-rc})");
    }

    public void Dispose()
    {
        if (_image != 0) { LibRbd.rbd_close(_image); _image = 0; }
        if (_ioctx != 0) { LibRbd.rados_ioctx_destroy(_ioctx); _ioctx = 0; }
        if (_cluster != 0) { LibRbd.rados_shutdown(_cluster); _cluster = 0; }
    }

    /// <summary>
    /// CEPH_ARGS split for librados: the client name and config file are settings of rados_create2 and
    /// rados_conf_read_file (the CLI handles them before its config exists); everything else is config options.
    /// </summary>
    internal sealed record ClientArguments(string Name, string? ConfFile, IReadOnlyList<string> Rest)
    {
        public static ClientArguments Parse(string? cephArgs)
        {
            var words = (cephArgs ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            string name = "client.admin";
            string? conf = null;
            var rest = new List<string>();
            for (var i = 0; i < words.Length; i++)
            {
                var (key, value) = words[i].Split('=', 2) is [var k, var v] ? (k, (string?)v) : (words[i], null);
                string Next() => value ?? (i + 1 < words.Length ? words[++i] : "");
                switch (key)
                {
                    case "-c" or "--conf": conf = Next(); break;
                    case "-i" or "--id" or "--user": name = "client." + Next(); break;
                    case "-n" or "--name": name = Next(); break;
                    default: rest.Add(words[i]); break;
                }
            }
            return new ClientArguments(name, conf, rest);
        }
    }
}
