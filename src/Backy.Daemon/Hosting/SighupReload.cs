using System.Runtime.InteropServices;
using Backy.Daemon.Scheduling;
using Backy.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Backy.Daemon.Hosting;

/// <summary>SIGHUP reloads the configuration (systemd's ExecReload, <c>kill -HUP</c>). Without this
/// registration SIGHUP would terminate the process.</summary>
internal sealed partial class SighupReload(JobRegistry registry, IHostApplicationLifetime lifetime, ILogger<SighupReload> logger) : IHostedService
{
    private PosixSignalRegistration? _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            LogSighup(logger);
            _ = ReloadAsync();
        });
        return Task.CompletedTask;
    }

    private async Task ReloadAsync()
    {
        try
        {
            await registry.ReloadAsync(lifetime.ApplicationStopping).ConfigureAwait(false);
        }
        catch (ConfigException)
        {
            // Already logged by the registry with every error; the old configuration stays.
        }
        catch (OperationCanceledException)
        {
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _registration?.Dispose();
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 4600, Level = LogLevel.Information, Message = "SIGHUP: reloading configuration")]
    private static partial void LogSighup(ILogger logger);
}
