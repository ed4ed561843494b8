using Backy.Daemon.Api;
using Backy.Daemon.Config;
using Backy.Daemon.Hosting;
using Backy.Daemon.Scheduling;
using Backy.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Backy.Daemon.Metrics;

/// <summary>
/// Serves <c>GET /metrics</c> (Prometheus text format) over plain HTTP/1.1 on <c>api.addrs</c> port
/// <c>api.metrics-port</c>; off when that key is unset. Its own small Kestrel server beside the gRPC one
/// (HTTP/2 only, maybe TLS, token-protected): Prometheus scrapes HTTP/1.1 without a token, and what it reads is
/// no secret (names, times, counts). prometheus-net's <see cref="MeterAdapter"/> turns this daemon's
/// <c>System.Diagnostics.Metrics</c> instruments into its registry; the instruments' names are already
/// Prometheus names. A reload that changes the port or addresses rebinds.
/// </summary>
public sealed partial class MetricsServer : IHostedService, IAsyncDisposable
{
    readonly IJobScheduler _daemon;
    readonly ILogger _logger;
    readonly SemaphoreSlim _gate = new(1, 1);
    readonly JobMetrics _jobs;
    readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    readonly Counter _backups;
    IDisposable? _adapter;
    WebApplication? _app;
    (string Addresses, int? Port) _bound;

    /// <summary>The URLs it listens on now (with the real port when the config says 0).</summary>
    public IReadOnlyList<string> Urls => _app?.Urls.ToList() ?? [];

    public MetricsServer(IJobScheduler daemon, Views.StoredBytesCache stored, ILoggerFactory loggerFactory, TimeProvider time)
    {
        _daemon = daemon;
        _logger = loggerFactory.CreateLogger<MetricsServer>();
        _jobs = new JobMetrics(daemon, stored, time);
        _backups = Prometheus.Metrics.WithCustomRegistry(_registry).CreateCounter("backy_backups_total",
            "Job runs finished since the daemon started, by result (success, failure).", "result");
        // Both results exist from the start, so rate() and alerts see a 0 rather than no series.
        _backups.WithLabels("success");
        _backups.WithLabels("failure");
    }

    void CountBackup(bool success) => _backups.WithLabels(success ? "success" : "failure").Inc();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _adapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = _registry,
            MetricFactory = Prometheus.Metrics.WithCustomRegistry(_registry),
            InstrumentFilterPredicate = i => i.Meter == _jobs.Meter,
        });
        DaemonMeter.BackupFinished += CountBackup;
        // An unusable metrics address at start is fatal like the API's: the operator asked to be watched.
        try
        {
            await BindAsync(_daemon.Config.Api, cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            throw new ConfigException($"api.metrics-port: cannot listen on {string.Join(", ", _daemon.Config.Api.Addrs)} port {_daemon.Config.Api.MetricsPort} - {e.Message.ReplaceLineEndings(" ")}", e);
        }
        _daemon.ConfigChanged += OnConfigChanged;
    }

    void OnConfigChanged(DaemonConfig config) => _ = Task.Run(async () =>
    {
        try { await BindAsync(config.Api, CancellationToken.None); }
        catch (Exception e) { LogRebindFailed(_logger, e.Message.ReplaceLineEndings(" ")); }
    });

    async Task BindAsync(ApiConfig api, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var wanted = (string.Join(", ", api.Addrs), api.MetricsPort);
            if (wanted == _bound && (_app is not null || api.MetricsPort is null)) return;
            await StopAppAsync();
            _bound = wanted;
            if (api.MetricsPort is { } port)
                _app = await StartAppAsync(ApiEndpoints.From(api).ResolveAddresses(), port, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    async Task<WebApplication> StartAppAsync(IReadOnlyList<System.Net.IPAddress> addresses, int port, CancellationToken cancellationToken)
    {
        var builder = KestrelApps.CreateBuilder("backy-metrics", addresses, port, listen => listen.Protocols = HttpProtocols.Http1);
        builder.Services.AddRoutingCore();
        var app = builder.Build();
        app.UseRouting();
        app.MapGet("/metrics", async (HttpContext context) =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await _registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
        });
        await KestrelApps.StartAsync(app, cancellationToken);
        LogListening(_logger, string.Join(", ", app.Urls));
        return app;
    }

    async Task StopAppAsync()
    {
        if (_app is not { } app) return;
        _app = null;
        await KestrelApps.StopAsync(app);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _daemon.ConfigChanged -= OnConfigChanged;
        await _gate.WaitAsync(cancellationToken);
        try { await StopAppAsync(); }
        finally { _gate.Release(); }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        DaemonMeter.BackupFinished -= CountBackup;
        _adapter?.Dispose();
        _jobs.Dispose();
        _gate.Dispose();
    }

    [LoggerMessage(EventId = 5040, Level = LogLevel.Information, Message = "metrics listening on {Urls}")]
    private static partial void LogListening(ILogger logger, string urls);

    [LoggerMessage(EventId = 5041, Level = LogLevel.Error, Message = "metrics: cannot listen on the reloaded addresses: {Reason}")]
    private static partial void LogRebindFailed(ILogger logger, string reason);
}
