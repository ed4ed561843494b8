using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Backy.Storage;
using Backy.Storage.Jobs;
using Backy.Storage.Reading;
using Microsoft.Extensions.Logging;

namespace Backy.Worker.Nbd;

/// <summary>How <c>nbd-server</c> listens and serves; validated by <see cref="NbdServer"/>.</summary>
internal sealed record NbdServerSettings(
    string Address,
    int Port,
    string? SocketPath,
    bool Writable,
    string? TlsCertificate,
    string? TlsKey,
    int CacheMiB,
    string OverlayDirectory)
{
    /// <summary>The default bound of the block cache (<c>--cache-mib</c>): 64 decoded 4 MiB blocks.</summary>
    public const int DefaultCacheMiB = 256;

    /// <summary>Connections open at once; more are closed at accept. A few clients use 4-16 each (nbdcopy,
    /// qemu); 128 leaves room for those and bounds what a flood of connections costs.</summary>
    public int MaxConnections { get; init; } = 128;

    /// <summary>A client that has not chosen an export by then is disconnected: it would hold a slot for ever.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// <c>nbd-server</c>: serves a job's revisions over NBD until cancelled (SIGTERM/SIGINT). One process, one
/// listening socket, one task per connection. Memory: the block cache (<c>--cache-mib</c>), plus per connection
/// at most 16 requests of 32 MiB, plus one chunk map per open export.
/// </summary>
internal sealed class NbdServer
{
    private readonly JobDirectory _job;
    private readonly NbdServerSettings _settings;
    private readonly ILogger _logger;
    private long _connections;
    private int _open;

    public NbdServer(JobDirectory job, NbdServerSettings settings, ILogger logger)
    {
        _job = job;
        _settings = settings;
        _logger = logger;
    }

    /// <param name="announce">Told the address once the socket listens (the command prints it).</param>
    public async Task RunAsync(Action<string> announce, CancellationToken cancellationToken)
    {
        _job.EnsureExists();
        var certificate = LoadCertificate();
        var cache = new BlockCache(Math.Max(1, _settings.CacheMiB / 4));
        using var exports = new NbdExports(_job, cache, _settings.Writable ? _settings.OverlayDirectory : null, _logger);
        using var listener = Listen(out var address);
        var mode = (_settings.Writable ? "writable (copy-on-write overlay)" : "read-only") + (certificate is null ? "" : ", TLS required");
        _logger.Listening(address, exports.List().Count, mode);
        announce(address);
        var connections = new List<Task>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Socket socket;
                try { socket = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { break; }
                catch (SocketException) { continue; } // a client that reset before accept
                var peer = socket.RemoteEndPoint?.ToString() is { Length: > 0 } p ? p : "local socket";
                if (Interlocked.Increment(ref _open) > _settings.MaxConnections)
                {
                    Interlocked.Decrement(ref _open);
                    _logger.TooManyConnections(peer, _settings.MaxConnections);
                    socket.Dispose();
                    continue;
                }
                if (socket.AddressFamily != AddressFamily.Unix) socket.NoDelay = true;
                var id = Interlocked.Increment(ref _connections);
                _logger.Connected(id, peer);
                var stream = new NetworkStream(socket, ownsSocket: true);
                var connection = new NbdConnection(id, stream, exports, certificate, _logger);
                lock (connections)
                {
                    connections.RemoveAll(t => t.IsCompleted);
                    connections.Add(Task.Run(async () =>
                    {
                        try { await connection.RunAsync(_settings.HandshakeTimeout, stop.Token).ConfigureAwait(false); }
                        catch (Exception e)
                        {
                            // RunAsync answers everything a client does; this is the server itself failing (the fault
                            // sweep: a part of the runtime that could not be loaded). Close the connection, or the
                            // client waits for ever, and go on serving the others.
                            _logger.ConnectionFailed(id, JobCommandLine.FailureMessage("connection", e));
                            stream.Dispose();
                        }
                        finally { Interlocked.Decrement(ref _open); }
                    }, CancellationToken.None));
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            Task[] running;
            lock (connections) running = [.. connections];
            try { await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false); }
            catch (TimeoutException) { /* connections stuck in a write are closed with the process */ }
            if (_settings.SocketPath is not null) TryDeleteSocket(_settings.SocketPath);
            _logger.CacheStatistics(cache.Hits, cache.Misses, cache.Prefetches, cache.Capacity * 4);
            _logger.Stopped();
        }
    }

    private Socket Listen(out string address)
    {
        if (_settings.SocketPath is { } path)
        {
            // A socket file left by a killed server would make bind fail: remove it, but not a live server's
            // socket, nor a regular file (a socket's length reads 0; a file of ours never would be in the way).
            if (File.Exists(path))
            {
                using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
                {
                    try
                    {
                        probe.Connect(new UnixDomainSocketEndPoint(path));
                        throw new BackyException($"cannot listen on '{path}': another server is listening there");
                    }
                    catch (SocketException) { }
                }
                if (new FileInfo(path).Length != 0)
                    throw new BackyException($"cannot listen on '{path}': a file that is not a socket is in the way");
                File.Delete(path);
            }
            var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                unix.Bind(new UnixDomainSocketEndPoint(path));
                unix.Listen(64);
            }
            catch (SocketException e)
            {
                unix.Dispose();
                throw new BackyException($"cannot listen on '{path}': {e.Message}", e);
            }
            address = $"nbd+unix:///?socket={Path.GetFullPath(path)}";
            return unix;
        }
        if (!IPAddress.TryParse(_settings.Address, out var ip))
        {
            try { ip = Dns.GetHostAddresses(_settings.Address).First(); }
            catch (Exception e) when (e is SocketException or InvalidOperationException)
            {
                throw new BackyException($"cannot listen on '{_settings.Address}': not an address or a resolvable name", e);
            }
        }
        var tcp = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            tcp.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            tcp.Bind(new IPEndPoint(ip, _settings.Port));
            tcp.Listen(128);
        }
        catch (SocketException e)
        {
            tcp.Dispose();
            throw new BackyException($"cannot listen on {_settings.Address} port {_settings.Port}: {e.Message}", e);
        }
        var bound = (IPEndPoint)tcp.LocalEndPoint!;
        var host = bound.Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{bound.Address}]" : bound.Address.ToString();
        address = $"nbd{(_settings.TlsCertificate is null ? "" : "s")}://{host}:{bound.Port}";
        return tcp;
    }

    private X509Certificate2? LoadCertificate()
    {
        if (_settings.TlsCertificate is null && _settings.TlsKey is null) return null;
        if (_settings.TlsCertificate is null || _settings.TlsKey is null)
            throw new BackyException("--tls-cert and --tls-key go together: give both or neither");
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(_settings.TlsCertificate, _settings.TlsKey);
            // An ephemeral PEM key cannot be used by SslStream on every platform; a PKCS#12 round trip fixes that.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
        {
            throw new BackyException($"cannot load the TLS certificate '{_settings.TlsCertificate}' with key '{_settings.TlsKey}': {e.Message}", e);
        }
    }

    private static void TryDeleteSocket(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
