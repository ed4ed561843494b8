using System.Net;
using Backy.Daemon.Config;
using Backy.Storage;

namespace Backy.Daemon.Api;

/// <summary>
/// Where the API listens: <c>api.addrs</c>, <c>api.port</c> and the TLS files. Value equality
/// decides whether a reload must rebind (tokens change without one). The certificate files' write
/// times are part of the value so that a renewed certificate is picked up by a reload too.
/// </summary>
internal sealed record ApiEndpoints(string Addresses, int Port, string? TlsCert, string? TlsKey, DateTime CertWritten, DateTime KeyWritten)
{
    public static ApiEndpoints From(ApiConfig api) => new(
        string.Join(", ", api.Addrs), api.Port, api.TlsCert, api.TlsKey,
        api.TlsCert is null ? default : File.GetLastWriteTimeUtc(api.TlsCert),
        api.TlsKey is null ? default : File.GetLastWriteTimeUtc(api.TlsKey));

    public bool UsesTls => TlsCert is not null;

    /// <summary>The IP addresses to bind: literals as written, host names resolved now.</summary>
    public IReadOnlyList<IPAddress> ResolveAddresses()
    {
        var result = new List<IPAddress>();
        foreach (var address in Addresses.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (IPAddress.TryParse(address, out var ip))
                result.Add(ip);
            else
                try
                {
                    result.AddRange(Dns.GetHostAddresses(address));
                }
                catch (System.Net.Sockets.SocketException e)
                {
                    throw new ConfigException($"api.addrs: cannot resolve '{address}': {e.Message}");
                }
        }
        return result.Distinct().ToList();
    }
}
