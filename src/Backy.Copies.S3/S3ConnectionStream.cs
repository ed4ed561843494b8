using System.Net.Sockets;

namespace Backy.Copies.S3;

/// <summary>
/// One TCP connection to the store, as the HTTP client reads and writes it. Two things the SDK's own connections lack:
/// <list type="bullet">
/// <item>An idle timeout per read and per write: a store that accepts the connection and then never answers (or stops
/// reading a body half way) fails the request after <see cref="IdleTimeout"/> with an <see cref="S3TimeoutException"/>
/// naming the endpoint, instead of holding the copy (and a daemon worker slot) for minutes. It counts silence, not the
/// length of a request, so a 4 MiB PUT over a slow link is fine as long as bytes move. Zero-byte reads (the HTTP
/// client's probe of an idle pooled connection) wait without a limit.</item>
/// <item>TCP_QUICKACK after each write (Linux): radosgw writes a response's headers
/// and its body in separate sends with Nagle's algorithm on (beast's <c>tcp_nodelay</c> is off by default), and a
/// client in the kernel's delayed-ACK ("ping-pong") mode acknowledges the headers only after about 40 ms, which is
/// when the body follows. Measured on every small GET and listing: 40 ms each, ~0.5 s of a copy's fixed cost. Leaving
/// ping-pong mode once the request is out makes the kernel acknowledge as soon as the headers are read (a send
/// enters it again, so it is done after every write: a syscall per write, against 40 ms per response).</item>
/// </list>
/// </summary>
internal sealed class S3ConnectionStream(Socket socket, string endpoint, TimeSpan idleTimeout) : Stream
{
    private readonly NetworkStream _inner = new(socket, ownsSocket: true);

    public TimeSpan IdleTimeout => idleTimeout;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Flush() => _inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        // The HTTP client reads asynchronously; a synchronous read (none expected) gets the socket's own timeout.
        socket.ReceiveTimeout = (int)idleTimeout.TotalMilliseconds;
        try { return _inner.Read(buffer); }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut })
        {
            throw Timeout("read", e);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0) return await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(idleTimeout);
        try { return await _inner.ReadAsync(buffer, idle.Token).ConfigureAwait(false); }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw Timeout("answered", e);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        socket.SendTimeout = (int)idleTimeout.TotalMilliseconds;
        try { _inner.Write(buffer); }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut })
        {
            throw Timeout("read what was sent", e);
        }
        QuickAck();
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(idleTimeout);
        try { await _inner.WriteAsync(buffer, idle.Token).ConfigureAwait(false); }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw Timeout("read what was sent", e);
        }
        QuickAck();
    }

    private void QuickAck()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            Span<byte> on = [1, 0, 0, 0];
            socket.SetRawSocketOption(TcpLevel, TcpQuickAck, on);
        }
        catch (SocketException) { /* an optimisation only */ }
    }

    private const int TcpLevel = 6;   // IPPROTO_TCP
    private const int TcpQuickAck = 12; // TCP_QUICKACK (linux/tcp.h)

    private S3TimeoutException Timeout(string what, Exception inner)
    {
        // The connection is useless after a timed-out operation: close it so that nothing reuses it.
        socket.Dispose();
        return new S3TimeoutException($"{endpoint} has not {what} for {idleTimeout.TotalSeconds:0} s", inner);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _inner.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>A store that went silent for the idle timeout (an <see cref="IOException"/>, so the SDK retries it).</summary>
public sealed class S3TimeoutException(string message, Exception inner) : IOException(message, inner);
