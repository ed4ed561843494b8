using System.Net;
using Backy.Daemon.Config;
using Backy.Storage;

namespace Backy.Cli.Client;

/// <summary>
/// Which daemon <c>backy client</c> talks to and with which token. <c>--url</c> and
/// <c>--token</c> win; else <c>-p PEER</c> (<c>peers.PEER.url/token</c>); else the local daemon
/// (<c>api.cli-default.token</c>, the URL from the first api address and the port).
/// </summary>
/// <param name="TrustedCertificatePath">For the local daemon over TLS: its own certificate
/// (<c>api.tls-cert</c>), trusted even when self-signed because it comes from the same
/// configuration file the daemon reads.</param>
/// <param name="ConfigWarning">Errors in the configuration outside api and peers (one line), or null.</param>
public sealed record ClientTarget(Uri Url, string Token, string? TrustedCertificatePath = null, string? ConfigWarning = null)
{
    public static ClientTarget Resolve(string configPath, string? peer, string? url, string? token)
    {
        if (url is not null && token is not null)
            return new ClientTarget(ParseUrl(url, "--url"), token);

        var config = DaemonConfigReader.LoadForClient(configPath);
        return Resolve(config, configPath, peer, url, token) with { ConfigWarning = config.Warning };
    }

    private static ClientTarget Resolve(ClientConfig config, string configPath, string? peer, string? url, string? token)
    {
        if (peer is not null)
        {
            if (!config.Peers.TryGetValue(peer, out var p))
                throw new ConfigException(config.Peers.Count == 0
                    ? $"unknown peer '{peer}': {configPath} configures no peers"
                    : $"unknown peer '{peer}' (configured in {configPath}: {string.Join(", ", config.Peers.Keys.Order(StringComparer.Ordinal))})");
            return new ClientTarget(url is null ? p.Url : ParseUrl(url, "--url"), token ?? p.Token);
        }

        var api = config.Api;
        var localToken = token ?? api.CliDefaultToken
            ?? throw new ConfigException($"no token to call the daemon: {configPath} has no api.cli-default.token (or give --token)");
        var tls = api.TlsCert is not null;
        var localUrl = url is null ? LocalUrl(api, tls) : ParseUrl(url, "--url");
        return new ClientTarget(localUrl, localToken, tls && url is null ? api.TlsCert : null);
    }

    /// <summary>The first api address as a client reaches it: a wildcard listen address
    /// (0.0.0.0, ::) is reached through the loopback of the same family.</summary>
    internal static Uri LocalUrl(ApiConfig api, bool tls)
    {
        var host = api.Addrs.Count > 0 ? api.Addrs[0] : "127.0.0.1";
        if (IPAddress.TryParse(host, out var ip))
        {
            if (ip.Equals(IPAddress.Any)) ip = IPAddress.Loopback;
            if (ip.Equals(IPAddress.IPv6Any)) ip = IPAddress.IPv6Loopback;
            host = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString();
        }
        return new Uri($"{(tls ? "https" : "http")}://{host}:{api.Port}");
    }

    private static Uri ParseUrl(string text, string what) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new ConfigException($"{what} '{text}' is not an http:// or https:// URL");
}
