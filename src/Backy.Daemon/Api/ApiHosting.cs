using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Backy.Daemon.Api;

/// <summary>
/// The one seam where the gRPC API joins the daemon's host. The API runs its own Kestrel server (see
/// <see cref="ApiServer"/>), so the host only gets one more hosted service. The host must register an
/// <see cref="Scheduling.IJobScheduler"/> and a <see cref="TimeProvider"/>.
/// </summary>
public static class ApiHosting
{
    public static void Configure(IHostBuilder builder) => builder
        // grpc-dotnet logs every message read and sent at Debug: noise in the daemon's log.
        .ConfigureLogging(logging => logging.AddFilter("Grpc", LogLevel.Warning))
        .ConfigureServices(services =>
        {
            services.AddSingleton<ApiServer>();
            services.AddHostedService(sp => sp.GetRequiredService<ApiServer>());
        });
}
