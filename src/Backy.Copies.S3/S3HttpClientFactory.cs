using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;

namespace Backy.Copies.S3;

/// <summary>
/// The HTTP client of one <see cref="S3ObjectStore"/> (the SDK's own would have no idle timeout and no way to shape
/// its connections):
/// <list type="bullet">
/// <item>Connections are <see cref="S3ConnectionStream"/>s: an idle timeout per read and write, and quick ACKs.</item>
/// <item>A connect timeout: a host that drops SYNs fails after <see cref="ConnectTimeout"/>, not the kernel's ~2 min.</item>
/// <item>No <c>Expect: 100-continue</c> (the SDK asks for it on every PUT): it costs a round trip per object, and
/// only spares sending a body the store would refuse, which for a copy means a bad credential, found on the first
/// request anyway.</item>
/// <item>Enough connections for every request a copy or restore runs at once.</item>
/// </list>
/// One HttpClient per store (not the SDK's global cache): its connections end with the store.
/// </summary>
internal sealed class S3HttpClientFactory(string endpointName, Func<HttpMessageHandler, HttpMessageHandler>? wrapHandler = null) : HttpClientFactory
{
    /// <summary>Silence (no byte read or written) after which a request fails. With the SDK's two retries an
    /// endpoint that accepts connections and never answers fails a request after ~30 s.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Above the largest number of requests Backy runs at once (the restore's read-ahead window).</summary>
    public const int MaxConnections = 64;

    public override HttpClient CreateHttpClient(IClientConfig clientConfig)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = ConnectTimeout,
            MaxConnectionsPerServer = MaxConnections,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(50),
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectCallback = ConnectAsync,
        };
        if (clientConfig.GetWebProxy() is { } proxy) handler.Proxy = proxy;
        HttpMessageHandler inner = wrapHandler is null ? handler : wrapHandler(handler);
        return new HttpClient(new NoExpectContinue(inner))
        {
            // The idle timeout ends a stuck request; this only bounds a store that trickles a byte every few seconds.
            Timeout = TimeSpan.FromMinutes(10),
        };
    }

    /// <summary>Cached per client (not globally: no unique string), disposed with it.</summary>
    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => true;
    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;
    public override string? GetConfigUniqueString(IClientConfig clientConfig) => null;

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            return new S3ConnectionStream(socket, endpointName, IdleTimeout);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private sealed class NoExpectContinue(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.ExpectContinue = false;
            return base.SendAsync(request, cancellationToken);
        }
    }
}
