using Backy.Daemon.Scheduling;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Backy.Daemon.Config;
using Backy.Daemon.Hosting;
using Backy.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Backy.Daemon.Api;

/// <summary>
/// Hosts the gRPC API on its own Kestrel server inside the daemon, so that a reload can rebind
/// (new addresses, port or certificate) without touching the rest of the daemon. A rebind that
/// fails on reload logs the error and brings the previous endpoints back, so the API stays
/// reachable to fix the configuration.
/// </summary>
/// <param name="stored">The daemon's chunk-file totals (<c>client jobs</c> Stored); a cache of its own when not given (tests).</param>
public sealed partial class ApiServer(IJobScheduler daemon, ILoggerFactory loggerFactory, TimeProvider time, Views.StoredBytesCache? stored = null) : IHostedService, IAsyncDisposable
{
    private readonly Views.StoredBytesCache _stored = stored ?? new Views.StoredBytesCache(time);

    /// <summary>The largest request message accepted (ResourceExhausted above it). Real requests are
    /// a name, a filter or a few tags: well under a kilobyte. grpc-dotnet's default is the same 4 MiB;
    /// it is written here so the limit is a decision, not an accident of a library version.</summary>
    public const int MaxReceiveMessageSize = 4 * 1024 * 1024;

    private readonly ILogger _logger = loggerFactory.CreateLogger<ApiServer>();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private WebApplication? _app;
    private ApiEndpoints? _endpoints;
    private readonly Lock _rebindLock = new();
    private Task _rebind = Task.CompletedTask;

    /// <summary>The URLs the API listens on now (with the real port when the config says 0).</summary>
    public IReadOnlyList<string> Urls => _app?.Urls.ToList() ?? [];

    /// <summary>Completes when the rebind started by the latest reload is done (for tests and shutdown).</summary>
    public Task Rebinding => _rebind;

    /// <summary>An address that cannot be bound at start is fatal (a <see cref="ConfigException"/>
    /// naming the addresses and the reason; the daemon exits 1 and systemd shows the failure): a
    /// daemon without its API is one that monitoring cannot see. On reload the old listener stays
    /// (<see cref="RebindAsync"/>).</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        var endpoints = ApiEndpoints.From(daemon.Config.Api);
        try
        {
            _app = await StartAppAsync(endpoints, cancellationToken);
            _endpoints = endpoints;
        }
        catch (Exception e) when (IsBindFailure(e))
        {
            throw new ConfigException($"api: cannot listen on {endpoints.Addresses} port {endpoints.Port} - {OneLine(e)}", e);
        }
        finally
        {
            _gate.Release();
        }
        daemon.ConfigChanged += OnConfigChanged;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        daemon.ConfigChanged -= OnConfigChanged;
        await _rebind;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await StopAppAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _gate.Dispose();
    }

    /// <summary>Runs after the reload call returned: the rebind stops the server that is still
    /// answering that call, so it must not run inside it.</summary>
    private void OnConfigChanged(DaemonConfig config)
    {
        lock (_rebindLock)
            _rebind = _rebind.ContinueWith(_ => RebindAsync(ApiEndpoints.From(config.Api)), TaskScheduler.Default).Unwrap();
    }

    private async Task RebindAsync(ApiEndpoints endpoints)
    {
        await _gate.WaitAsync();
        try
        {
            if (_app is not null && endpoints == _endpoints)
                return;
            var previous = _endpoints;
            await StopAppAsync();
            try
            {
                _app = await StartAppAsync(endpoints, CancellationToken.None);
                _endpoints = endpoints;
            }
            catch (Exception e) when (IsBindFailure(e) && previous is not null)
            {
                LogRebindFailed(_logger, e.Message);
                _app = await StartAppAsync(previous, CancellationToken.None);
            }
        }
        catch (Exception e) when (IsBindFailure(e))
        {
            LogNotListening(_logger, e.Message);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<WebApplication> StartAppAsync(ApiEndpoints endpoints, CancellationToken cancellationToken)
    {
        var addresses = endpoints.ResolveAddresses();
        // Lives as long as the server: Kestrel presents it on every handshake.
        var certificate = endpoints.UsesTls ? LoadCertificate(endpoints) : null;
        var builder = KestrelApps.CreateBuilder("backy-api", addresses, endpoints.Port, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (certificate is not null)
                listen.UseHttps(certificate);
        });
        // The daemon's log, clock and state, not copies of them.
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton(daemon);
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(_stored);
        builder.Services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<BearerTokenInterceptor>();
            grpc.MaxReceiveMessageSize = MaxReceiveMessageSize;
        });
        var app = builder.Build();
        app.UseMiddleware<FailedCallLogging>();
        app.MapGrpcService<JobsService>();
        app.MapGrpcService<BackupsService>();
        await KestrelApps.StartAsync(app, cancellationToken);
        LogListening(_logger, string.Join(", ", app.Urls));
        return app;
    }

    private async Task StopAppAsync()
    {
        if (_app is not { } app)
            return;
        _app = null;
        await KestrelApps.StopAsync(app);
    }

    private static X509Certificate2 LoadCertificate(ApiEndpoints endpoints)
    {
        try
        {
            return X509Certificate2.CreateFromPemFile(endpoints.TlsCert!, endpoints.TlsKey);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"api.tls-cert/api.tls-key: cannot load '{endpoints.TlsCert}' with key '{endpoints.TlsKey}': {e.Message}", e);
        }
    }

    /// <summary>Kestrel wraps the socket's reason ("address already in use") in its own message.</summary>
    private static string OneLine(Exception e) => e.Message.ReplaceLineEndings(" ");

    private static bool IsBindFailure(Exception e) => e is IOException or ConfigException or InvalidOperationException;

    [LoggerMessage(EventId = 5030, Level = LogLevel.Information, Message = "api listening on {Urls}")]
    private static partial void LogListening(ILogger logger, string urls);

    [LoggerMessage(EventId = 5032, Level = LogLevel.Error, Message = "api not listening (backups continue; fix api: and reload): {Reason}")]
    private static partial void LogNotListening(ILogger logger, string reason);

    [LoggerMessage(EventId = 5031, Level = LogLevel.Error, Message = "api: cannot listen on the reloaded addresses, kept the previous ones: {Reason}")]
    private static partial void LogRebindFailed(ILogger logger, string reason);
}
