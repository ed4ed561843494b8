using Backy.Daemon.Scheduling;
using Microsoft.Extensions.Hosting;

namespace Backy.Daemon.Hosting;

/// <summary>Starts the job loops with the host and stops them with it. The host sends READY=1
/// (systemd) only after this StartAsync returned, i.e. after the first scheduling succeeded.</summary>
internal sealed class SchedulerService(JobRegistry registry) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => registry.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => registry.StopAsync();
}
