using Backy.Daemon.Scheduling;
using System.Security.Cryptography;
using System.Text;
using Backy.Protocol;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace Backy.Daemon.Api;

/// <summary>
/// Every call needs <c>authorization: Bearer TOKEN</c> with a token from <c>api.tokens</c> (read
/// per call, so a reload changes them at once). The token's client name and the caller's
/// <c>taskid</c> become a log scope for everything the call logs. Refusals are logged with the
/// peer address, never with the token. Every call that fails with an RpcException (a bad name,
/// filter, token) is logged here with the client's name; failures that happen before the
/// interceptor runs (oversized or malformed messages) are left to <see cref="FailedCallLogging"/>.
/// </summary>
internal sealed partial class BearerTokenInterceptor(IJobScheduler daemon, ILogger<BearerTokenInterceptor> logger) : Interceptor
{
    /// <summary>Task ids end up in log lines: bounded and printable, whatever a caller sends.</summary>
    private const int MaxTaskIdLength = 64;

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var taskId = SanitizedTaskId(context.RequestHeaders.GetValue(ApiHeaders.TaskId));
        using var taskScope = logger.BeginScope(new Dictionary<string, object> { ["TaskId"] = taskId });
        var client = Authenticate(context);
        using var clientScope = logger.BeginScope(new Dictionary<string, object> { ["Client"] = client });
        LogCall(logger, context.Method, client, taskId);
        try
        {
            await daemon.Started.WaitAsync(context.CancellationToken);
            return await continuation(request, context);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            // An answer, not a failure of this server: every peer's run asks (TouchDeadBackup,
            // ListRevisions) whether this server has the job's dead directory, and usually it has none.
            LogNotFound(logger, context.Method, client, Printable.Of(e.Status.Detail));
            FailedCallLogging.MarkLogged(context);
            throw;
        }
        catch (RpcException e)
        {
            LogFailed(logger, context.Method, client, e.StatusCode, Printable.Of(e.Status.Detail));
            FailedCallLogging.MarkLogged(context);
            throw;
        }
    }

    private string Authenticate(ServerCallContext context)
    {
        var header = context.RequestHeaders.GetValue(ApiHeaders.Authorization);
        if (header is null || !header.StartsWith(ApiHeaders.BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            LogRefused(logger, context.Method, context.Peer, "no bearer token");
            FailedCallLogging.MarkLogged(context);
            throw new RpcException(new Status(StatusCode.Unauthenticated, "a bearer token is required"));
        }
        var token = header[ApiHeaders.BearerPrefix.Length..].Trim();
        if (Lookup(token) is { } client)
            return client;
        LogRefused(logger, context.Method, context.Peer, "unknown token");
        FailedCallLogging.MarkLogged(context);
        throw new RpcException(new Status(StatusCode.Unauthenticated, "unknown token"));
    }

    /// <summary>Compares against every configured token in constant time, so response timing does
    /// not reveal how much of a guess was right.</summary>
    private string? Lookup(string token)
    {
        var offered = Encoding.UTF8.GetBytes(token);
        string? found = null;
        foreach (var (known, client) in daemon.Config.Api.Tokens)
            if (CryptographicOperations.FixedTimeEquals(offered, Encoding.UTF8.GetBytes(known)))
                found = client;
        return found;
    }

    internal static string SanitizedTaskId(string? raw)
    {
        if (string.IsNullOrEmpty(raw))
            return "-";
        var clean = new string(raw.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':').Take(MaxTaskIdLength).ToArray());
        return clean.Length == 0 ? "-" : clean;
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "api call {Method} from {Client} (task {TaskId})")]
    private static partial void LogCall(ILogger logger, string method, string client, string taskId);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "api call {Method} from {Peer} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string method, string peer, string reason);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Information, Message = "api call {Method} from {Client}: NotFound: {Detail}")]
    private static partial void LogNotFound(ILogger logger, string method, string client, string detail);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "api call {Method} from {Client} failed: {Status}: {Detail}")]
    private static partial void LogFailed(ILogger logger, string method, string client, StatusCode status, string detail);
}
