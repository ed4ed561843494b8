using Backy.Daemon.Api;
using Backy.Daemon.Metrics;
using Backy.Daemon.Config;
using Backy.Storage.Logging;
using Backy.Daemon.Peers;
using Backy.Daemon.Scheduling;
using Backy.Daemon.Workers;
using Backy.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Quartz;

namespace Backy.Daemon.Hosting;

/// <summary>
/// The daemon: <c>backy-daemon</c> and <c>backy scheduler</c> both call <see cref="RunAsync"/>.
/// Order: log file, configuration (every error, exit 1), base-dir lock (exit 1 if held), host
/// start (Quartz + first scheduling), then READY=1 (UseSystemd, when NOTIFY_SOCKET is set). SIGTERM
/// stops the host (STOPPING=1): job loops cancel, workers get SIGTERM, then kill; exit 0.
/// </summary>
public static partial class DaemonHost
{
    public static async Task<int> RunAsync(DaemonOptions options, CancellationToken cancellationToken = default)
    {
        FileLoggerProvider fileLog;
        try
        {
            fileLog = FileLoggerProvider.Open(options.LogFile, Console.Error);
        }
        catch (BackyException e)
        {
            await Console.Error.WriteLineAsync($"backy: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        using (fileLog)
        {
            using var bootstrap = LoggerFactory.Create(b => ConfigureLogging(b, fileLog, options.Verbose));
            var log = bootstrap.CreateLogger("Backy.Daemon");
            DaemonConfig config;
            BaseDirLock baseDirLock;
            try
            {
                config = DaemonConfigReader.Load(options.ConfigPath);
                Directory.CreateDirectory(config.Global.BaseDir);
                baseDirLock = BaseDirLock.Acquire(config.Global.BaseDir);
            }
            catch (ConfigValidationException e)
            {
                foreach (var error in e.Errors)
                    LogConfigError(log, error.Format(e.ConfigPath));
                LogNotStarted(log, $"{e.Errors.Count} configuration error(s) in {e.ConfigPath}");
                return 1;
            }
            catch (Exception e) when (e is BackyException or IOException or UnauthorizedAccessException)
            {
                LogNotStarted(log, e.Message);
                return 1;
            }

            using (baseDirLock)
            {
                using var host = Build(options, config, fileLog);
                try
                {
                    await StartAsync(host, cancellationToken).ConfigureAwait(false);
                    await host.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (BackyException e)
                {
                    // A start-up failure that names its cause (the API address in use): one line, exit 1.
                    LogNotStarted(log, e.Message);
                    return 1;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogCrashed(log, e, e.Message);
                    return 1;
                }
                LogStopped(log);
                return 0;
            }
        }
    }

    /// <summary>SIGTERM while the host is still starting (e.g. the API still binding) cancels the
    /// start: that is a stop like any other, not a crash. WaitForShutdownAsync then stops whatever
    /// did start (job loops and their workers).</summary>
    private static async Task StartAsync(IHost host, CancellationToken cancellationToken)
    {
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>The host with every daemon service; the API adds itself through <see cref="ApiHosting"/>.</summary>
    /// <param name="worker">Where the worker is; default from the environment (BACKY_WORKER).</param>
    public static IHost Build(DaemonOptions options, DaemonConfig config, ILoggerProvider fileLog, WorkerLauncherOptions? worker = null)
    {
        var launcherOptions = worker ?? WorkerLauncherOptions.FromEnvironment();
        var builder = new HostBuilder()
            .UseSystemd();
        // The API first: its hosted service starts before the job loops, so an address in use at
        // start fails the daemon (exit 1, READY never sent) before any backup began.
        ApiHosting.Configure(builder);
        builder
            .ConfigureLogging(b => ConfigureLogging(b, fileLog, options.Verbose))
            .ConfigureServices(services =>
            {
                services.Configure<HostOptions>(o =>
                {
                    // Room for every worker's SIGTERM grace period plus the kill.
                    o.ShutdownTimeout = launcherOptions.GracePeriod + TimeSpan.FromSeconds(15);
                });
                services.AddSingleton(config);
                services.AddSingleton(TimeProvider.System);
                services.AddSingleton(launcherOptions);
                services.AddSingleton<WorkerLauncher>();
                services.AddSingleton(PeerSyncOptions.FromEnvironment());
                services.AddSingleton<PeerSync>();
                services.AddSingleton<JobRun>();
                services.AddSingleton<Deadlines>();
                services.AddQuartz(q =>
                {
                    Deadlines.Register(q);
                });
                services.AddSingleton<Views.JobViewCache>();
                services.AddSingleton<Views.StoredBytesCache>();
                services.AddSingleton<JobRegistry>();
                services.AddSingleton<IJobScheduler>(sp => sp.GetRequiredService<JobRegistry>());
                services.AddHostedService<SchedulerService>();
                services.AddHostedService<SighupReload>();
                services.AddHostedService<Housekeeping>();
                services.AddSingleton<MetricsServer>();
                services.AddHostedService(sp => sp.GetRequiredService<MetricsServer>());
            });
        return builder.Build();
    }

    private static void ConfigureLogging(ILoggingBuilder builder, ILoggerProvider fileLog, bool verbose)
    {
        builder.ClearProviders();
        builder.SetMinimumLevel(LogLevel.Debug);
        builder.AddProvider(fileLog);
        // The manual: logs always go to stderr (the journal under systemd); Debug only with -v.
        // Under systemd, UseSystemd picks the journal's format (priority prefixes, no timestamps);
        // elsewhere one line per message with a UTC timestamp.
        builder.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        if (!SystemdHelpers.IsSystemdService())
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss ";
                o.UseUtcTimestamp = true;
            });
        builder.AddFilter<ConsoleLoggerProvider>("Backy", verbose ? LogLevel.Debug : LogLevel.Information);
        builder.AddFilter("Quartz", LogLevel.Warning);
        builder.AddFilter("Microsoft", LogLevel.Warning);
        // "Hosting failed to start" with the whole stack trace (twice: the API's own host and this one):
        // RunAsync logs a failed start itself, one line for a BackyException.
        builder.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
    }

    [LoggerMessage(EventId = 4000, Level = LogLevel.Error, Message = "{Error}")]
    private static partial void LogConfigError(ILogger logger, string error);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Critical, Message = "daemon not started: {Reason}")]
    private static partial void LogNotStarted(ILogger logger, string reason);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Critical, Message = "daemon failed: {Reason}")]
    private static partial void LogCrashed(ILogger logger, Exception exception, string reason);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "daemon stopped")]
    private static partial void LogStopped(ILogger logger);
}
