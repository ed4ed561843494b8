using Backy.Daemon.Config;
using Backy.Daemon.Hosting;
using Backy.Storage.Logging;
using Backy.Daemon.Scheduling;
using Backy.Daemon.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Backy.Tests.Daemon.Support;

/// <summary>The daemon's real host built in the test process (real Quartz, real worker processes),
/// so that a test can read job snapshots through <see cref="IJobScheduler"/>.</summary>
public sealed class InProcessDaemon : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly FileLoggerProvider _log;

    public IJobScheduler Scheduler { get; }

    private InProcessDaemon(IHost host, FileLoggerProvider log)
    {
        _host = host;
        _log = log;
        Scheduler = host.Services.GetRequiredService<IJobScheduler>();
    }

    public static async Task<InProcessDaemon> StartAsync(DaemonTestBed bed, CancellationToken cancellationToken)
    {
        var config = DaemonConfigReader.Load(bed.ConfigPath);
        var log = FileLoggerProvider.Open(bed.LogPath);
        var host = DaemonHost.Build(new DaemonOptions(bed.ConfigPath, bed.LogPath), config, log,
            new WorkerLauncherOptions(bed.Worker.Path, TimeSpan.FromSeconds(5)));
        await host.StartAsync(cancellationToken);
        return new InProcessDaemon(host, log);
    }

    public Housekeeping Housekeeping => _host.Services.GetServices<IHostedService>().OfType<Housekeeping>().Single();

    public JobSnapshot Job(string name) => Scheduler.Jobs().Single(j => j.Name == name);

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        _log.Dispose();
    }
}
