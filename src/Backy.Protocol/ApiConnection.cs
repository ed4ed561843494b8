using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Backy.Protocol.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Backy.Protocol;

/// <summary>
/// The client side of the API: one gRPC channel to a daemon with the bearer token and task id
/// attached to every call (<see cref="ApiHeaders"/>). Used by <c>backy client</c> and by the daemon's peer sync,
/// so it lives with the contract both reference rather than in either of them.
/// </summary>
public sealed class ApiConnection : IDisposable
{
    /// <summary>Every call here is quick on the daemon's side; a minute means it is stuck.</summary>
    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromMinutes(1);

    /// <summary>A daemon that does not accept a connection in this time is treated as down.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private readonly GrpcChannel _channel;
    private readonly Metadata _headers;
    private readonly X509Certificate2? _trusted;
    private readonly TimeSpan _callTimeout;

    public Uri Url { get; }
    public string TaskId { get; }
    public Jobs.JobsClient Jobs { get; }
    public Backups.BackupsClient Backups { get; }

    /// <param name="trustedCertificatePath">A PEM certificate accepted as the server's even when no
    /// authority vouches for it (the local daemon's own, self-signed one); null: normal validation.</param>
    /// <param name="callTimeout">The deadline of each call (default <see cref="DefaultCallTimeout"/>). A call
    /// past it throws <see cref="OperationCanceledException"/> (ThrowOperationCanceledOnCancellation below).</param>
    public ApiConnection(Uri url, string token, string taskId, string? trustedCertificatePath = null, TimeSpan? callTimeout = null)
    {
        Url = url;
        TaskId = taskId;
        _callTimeout = callTimeout ?? DefaultCallTimeout;
        _trusted = trustedCertificatePath is { } path ? X509Certificate2.CreateFromPem(File.ReadAllText(path)) : null;
        var handler = new SocketsHttpHandler { ConnectTimeout = ConnectTimeout, EnableMultipleHttp2Connections = true };
        if (_trusted is not null)
            handler.SslOptions.RemoteCertificateValidationCallback = ValidateAgainstTrusted;
        // ThrowOperationCanceledOnCancellation: a daemon stop or reload cancelling a peer call must read as a
        // cancellation (OperationCanceledException), not as RpcException(Cancelled), which callers treat as a failure.
        _channel = GrpcChannel.ForAddress(url, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true, ThrowOperationCanceledOnCancellation = true });
        _headers = new Metadata { { ApiHeaders.Authorization, ApiHeaders.BearerPrefix + token }, { ApiHeaders.TaskId, taskId } };
        Jobs = new Jobs.JobsClient(_channel);
        Backups = new Backups.BackupsClient(_channel);
    }

    /// <summary>The deadline of every call made with <see cref="Call"/>.</summary>
    public TimeSpan CallTimeout => _callTimeout;

    public CallOptions Call(CancellationToken cancellationToken) =>
        new(_headers, DateTime.UtcNow + _callTimeout, cancellationToken);

    /// <summary>The local daemon's own certificate is accepted as-is (it may be self-signed);
    /// anything else must pass normal validation.</summary>
    private bool ValidateAgainstTrusted(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        errors == SslPolicyErrors.None
        || certificate is not null && _trusted is not null && (errors & SslPolicyErrors.RemoteCertificateNotAvailable) == 0
           && certificate.GetCertHash().AsSpan().SequenceEqual(_trusted.GetCertHash());

    public void Dispose()
    {
        _channel.Dispose();
        _trusted?.Dispose();
    }
}
