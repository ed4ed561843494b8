using System.Net;
using System.Net.Sockets;
using Backy.Daemon.Api;
using Backy.Protocol.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace Backy.Tests.Api;

/// <summary>
/// A real API server on a loopback port over a temporary base directory, configured by a real
/// config file, with its log captured.
/// </summary>
internal sealed class ApiHarness : IAsyncDisposable
{
    public const string Token = "s3cret-token";
    public const string ClientName = "monitoring";

    private readonly ILoggerFactory _logs;

    public string Root { get; }
    public string BaseDir { get; }
    public string ConfigPath { get; }
    public int Port { get; private set; }
    public StubDaemon Daemon { get; }
    public ApiServer Server { get; }
    public CapturingLoggerProvider Log { get; } = new();
    public (string Cert, string Key)? Tls { get; }

    public Uri Url => new($"{(Tls is null ? "http" : "https")}://127.0.0.1:{Port}");

    private ApiHarness(bool tls, string[] jobs, int? port)
    {
        Root = Directory.CreateTempSubdirectory("backy-api-").FullName;
        BaseDir = Path.Join(Root, "backups");
        Directory.CreateDirectory(BaseDir);
        ConfigPath = Path.Join(Root, "backy.conf");
        if (tls)
            Tls = TestCertificate.Create(Root);
        Port = port ?? FreePort();
        Jobs = jobs;
        WriteConfig();
        Daemon = new StubDaemon(ConfigPath);
        _logs = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(Log));
        Server = new ApiServer(Daemon, _logs, TimeProvider.System);
    }

    public string[] Jobs { get; set; }

    public static async Task<ApiHarness> StartAsync(bool tls = false, int? port = null, params string[] jobs)
    {
        var harness = new ApiHarness(tls, jobs.Length == 0 ? ["alpha", "beta"] : jobs, port);
        await harness.Server.StartAsync(CancellationToken.None);
        return harness;
    }

    /// <summary>Rewrites the config file (a new port when asked); the daemon sees it on reload.</summary>
    public void WriteConfig(int? port = null, string? extraToken = null)
    {
        Port = port ?? Port;
        var tokens = $"    {Token}: {ClientName}\n" + (extraToken is null ? "" : $"    {extraToken}: other\n");
        var tls = Tls is { } t ? $"  tls-cert: {t.Cert}\n  tls-key: {t.Key}\n" : "";
        var jobs = string.Concat(Jobs.Select(j =>
            $"  {j}:\n    schedule: default\n    source:\n      type: file\n      filename: {Root}/{j}.img\n"));
        File.WriteAllText(ConfigPath, $"""
            global:
              base-dir: {BaseDir}
            api:
              addrs: 127.0.0.1
              port: {Port}
              tokens:
            {tokens}  cli-default:
                token: {Token}
            {tls}schedules:
              default:
                daily:
                  interval: 1d
                  keep: 7
            jobs:
            {jobs}
            """);
    }

    public GrpcChannel Channel(Uri? url = null) => GrpcChannel.ForAddress(url ?? Url, new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler
        {
            // The test's own self-signed certificate.
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        },
    });

    public static CallOptions Auth(string? token = Token, string? taskId = null)
    {
        var headers = new Metadata();
        if (token is not null)
            headers.Add("authorization", $"Bearer {token}");
        if (taskId is not null)
            headers.Add("taskid", taskId);
        return new CallOptions(headers);
    }

    public Jobs.JobsClient JobsClient() => new(Channel());

    public Backups.BackupsClient BackupsClient() => new(Channel());

    /// <summary>The RpcException a call fails with (the test fails when it does not).</summary>
    public static async Task<RpcException> Refusal(Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (RpcException e)
        {
            return e;
        }
        throw new AssertionException("the call succeeded; expected an RpcException");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        _logs.Dispose();
        Directory.Delete(Root, recursive: true);
    }
}
