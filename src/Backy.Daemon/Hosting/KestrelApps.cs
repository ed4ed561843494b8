using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Backy.Daemon.Hosting;

/// <summary>
/// The daemon's small Kestrel servers (the gRPC API, <c>/metrics</c>): each is its own <see cref="WebApplication"/>
/// so that a reload can rebind one without touching the rest of the daemon. What they share is here: an empty
/// builder listening on every address, a start that leaves nothing half-bound, a stop that does not wait forever.
/// </summary>
internal static class KestrelApps
{
    /// <summary>Calls are short; a stuck one must not hold a rebind or shutdown for long.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    /// <param name="listen">Per listener: protocols, TLS.</param>
    public static WebApplicationBuilder CreateBuilder(string name, IEnumerable<IPAddress> addresses, int port, Action<ListenOptions> listen)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = name });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            foreach (var address in addresses)
                kestrel.Listen(address, port, listen);
        });
        return builder;
    }

    /// <summary>Starts the app; one that cannot bind is disposed (no listener left behind) and the failure thrown.</summary>
    public static async Task<WebApplication> StartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        return app;
    }

    public static async Task StopAsync(WebApplication app)
    {
        using var timeout = new CancellationTokenSource(StopTimeout);
        await app.StopAsync(timeout.Token);
        await app.DisposeAsync();
    }
}
