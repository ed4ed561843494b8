using Backy.Daemon.Config;
using Microsoft.Extensions.Hosting;

namespace Backy.Daemon.Api;

/// <summary>
/// The seam where the gRPC API joins the daemon's host: <see cref="Configure"/> gets the host
/// builder (add Kestrel with <c>ConfigureWebHost</c>, services, endpoints). Until the API lands the
/// host runs without a web server.
/// </summary>
public static class ApiHosting
{
    public static void Configure(IHostBuilder builder, DaemonConfig config)
    {
    }
}
