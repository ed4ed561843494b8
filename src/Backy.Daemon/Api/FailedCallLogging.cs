using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Backy.Daemon.Api;

/// <summary>
/// Logs calls that failed before <see cref="BearerTokenInterceptor"/> saw them: grpc-dotnet reads
/// and parses the request message before any interceptor runs, so an oversized or malformed message
/// (or an unknown method) is refused there and would otherwise leave no trace in the daemon's log
/// (grpc-dotnet's own lines are filtered to warnings).
/// </summary>
internal sealed partial class FailedCallLogging(RequestDelegate next, ILogger<FailedCallLogging> logger)
{
    private const string LoggedKey = "backy.failure-logged";

    /// <summary>The interceptor logged this call's failure with more context (client, task id).</summary>
    public static void MarkLogged(ServerCallContext context) => context.GetHttpContext().Items[LoggedKey] = true;

    public async Task InvokeAsync(HttpContext http)
    {
        await next(http);
        if (http.Items.ContainsKey(LoggedKey))
            return;
        // A failure before the response started is "trailers-only": the status is in the headers.
        var trailers = http.Features.Get<IHttpResponseTrailersFeature>()?.Trailers;
        var status = FirstOf(http.Response.Headers, trailers, "grpc-status");
        if (status is null or "0")
        {
            if (http.Response.StatusCode != StatusCodes.Status200OK)
                LogFailed(logger, Printable.Of(http.Request.Path), Peer(http), $"HTTP {http.Response.StatusCode}", "");
            return;
        }
        var name = int.TryParse(status, out var code) ? ((StatusCode)code).ToString() : Printable.Of(status);
        var detail = Uri.UnescapeDataString(FirstOf(http.Response.Headers, trailers, "grpc-message") ?? "");
        LogFailed(logger, Printable.Of(http.Request.Path), Peer(http), name, Printable.Of(detail));
    }

    private static string? FirstOf(IHeaderDictionary headers, IHeaderDictionary? trailers, string key) =>
        headers.TryGetValue(key, out var value) || (trailers?.TryGetValue(key, out value) ?? false) ? value.ToString() : null;

    private static string Peer(HttpContext http) => $"{http.Connection.RemoteIpAddress}:{http.Connection.RemotePort}";

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "api call {Method} from {Peer} failed: {Status}: {Detail}")]
    private static partial void LogFailed(ILogger logger, string method, string peer, string status, string detail);
}
