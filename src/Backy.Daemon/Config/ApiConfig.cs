namespace Backy.Daemon.Config;

/// <summary><c>api:</c> section. Parsed by <see cref="ApiSectionReader"/>; new keys (TLS and the
/// like) are added as init properties with their default here and a case there.</summary>
public sealed record ApiConfig
{
    /// <summary>The original's defaults: loopback only (both families), port 6023.</summary>
    public IReadOnlyList<string> Addrs { get; init; } = ["127.0.0.1", "::1"];
    public int Port { get; init; } = 6023;

    /// <summary>Bearer token -> client (server) name, for incoming calls.</summary>
    public IReadOnlyDictionary<string, string> Tokens { get; init; } = new Dictionary<string, string>();

    /// <summary><c>cli-default.token</c>: what <c>backy client</c> sends when given no token.</summary>
    public string? CliDefaultToken { get; init; }

    /// <summary><c>tls-cert</c> / <c>tls-key</c>: PEM certificate (chain) and private key files.
    /// Both or neither; with them the API speaks HTTPS (peers talk across networks).</summary>
    public string? TlsCert { get; init; }

    /// <summary><c>metrics-port</c>: where <c>GET /metrics</c> (Prometheus, plain HTTP/1.1) listens on the same
    /// addresses; null = no metrics endpoint.</summary>
    public int? MetricsPort { get; init; }
    public string? TlsKey { get; init; }
}
