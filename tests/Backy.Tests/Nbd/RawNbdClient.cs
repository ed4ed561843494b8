using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Backy.Tests.Nbd;

/// <summary>A hand-written NBD client that can say things real clients never would (hostile-client tests).</summary>
public sealed class RawNbdClient : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawNbdClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawNbdClient> ConnectAsync(string address, CancellationToken ct)
    {
        var uri = new Uri(address);
        var tcp = new TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port, ct);
        return new RawNbdClient(tcp);
    }

    public NetworkStream Stream => _stream;

    /// <summary>Reads the server's greeting and answers with fixed newstyle + no zeroes.</summary>
    public async Task GreetAsync(CancellationToken ct)
    {
        var hello = await ReadAsync(18, ct);
        Assert.That(BinaryPrimitives.ReadUInt64BigEndian(hello), Is.EqualTo(0x4e42444d41474943UL));
        await WriteAsync(U32(3), ct);
    }

    public Task SendOptionAsync(uint option, byte[] data, CancellationToken ct) =>
        WriteAsync([.. U64(0x49484156454F5054), .. U32(option), .. U32((uint)data.Length), .. data], ct);

    /// <summary>One option reply: its type and data.</summary>
    public async Task<(uint Type, byte[] Data)> ReadOptionReplyAsync(CancellationToken ct)
    {
        var head = await ReadAsync(20, ct);
        var length = BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(16));
        return (BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(12)), await ReadAsync((int)length, ct));
    }

    /// <summary>NBD_OPT_GO for <paramref name="name"/> without structured replies; returns the export size.</summary>
    public async Task<ulong> GoAsync(string name, CancellationToken ct)
    {
        var n = Encoding.UTF8.GetBytes(name);
        await SendOptionAsync(7, [.. U32((uint)n.Length), .. n, 0, 0], ct);
        ulong size = 0;
        while (true)
        {
            var (type, data) = await ReadOptionReplyAsync(ct);
            if (type == 1) return size;
            Assert.That(type, Is.EqualTo(3u), "NBD_REP_INFO before NBD_REP_ACK");
            if (BinaryPrimitives.ReadUInt16BigEndian(data) == 0) size = BinaryPrimitives.ReadUInt64BigEndian(data.AsSpan(2));
        }
    }

    public Task SendRequestAsync(ushort type, ulong handle, ulong offset, uint length, CancellationToken ct, ushort flags = 0) =>
        WriteAsync([.. U32(0x25609513), .. U16(flags), .. U16(type), .. U64(handle), .. U64(offset), .. U32(length)], ct);

    /// <summary>A simple reply: error and handle.</summary>
    public async Task<(uint Error, ulong Handle)> ReadSimpleReplyAsync(CancellationToken ct)
    {
        var r = await ReadAsync(16, ct);
        Assert.That(BinaryPrimitives.ReadUInt32BigEndian(r), Is.EqualTo(0x67446698u));
        return (BinaryPrimitives.ReadUInt32BigEndian(r.AsSpan(4)), BinaryPrimitives.ReadUInt64BigEndian(r.AsSpan(8)));
    }

    /// <summary>True when the server closed the connection (read returns end of stream) within the time.</summary>
    public async Task<bool> ClosedByServerAsync(TimeSpan within)
    {
        using var cts = new CancellationTokenSource(within);
        var b = new byte[4096];
        try
        {
            while (true)
                if (await _stream.ReadAsync(b, cts.Token) == 0) return true;
        }
        catch (IOException) { return true; }
        catch (OperationCanceledException) { return false; }
    }

    public async Task<byte[]> ReadAsync(int n, CancellationToken ct)
    {
        var b = new byte[n];
        await _stream.ReadExactlyAsync(b, ct);
        return b;
    }

    public async Task WriteAsync(byte[] b, CancellationToken ct) => await _stream.WriteAsync(b, ct);

    public static byte[] U16(ushort v) { var b = new byte[2]; BinaryPrimitives.WriteUInt16BigEndian(b, v); return b; }
    public static byte[] U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32BigEndian(b, v); return b; }
    public static byte[] U64(ulong v) { var b = new byte[8]; BinaryPrimitives.WriteUInt64BigEndian(b, v); return b; }

    public void Dispose()
    {
        _stream.Dispose();
        _tcp.Dispose();
    }
}
