namespace Backy.Protocol;

/// <summary>
/// The request headers of every <c>backy.v1</c> call, part of the contract beside the .proto files: the client
/// (<see cref="ApiConnection"/>) sends them, the daemon's interceptor reads them.
/// </summary>
public static class ApiHeaders
{
    /// <summary><c>authorization: Bearer TOKEN</c>, a token of the daemon's <c>api.tokens</c>. A plain header (not
    /// CallCredentials) so that plain-HTTP loopback connections, the default, carry it too.</summary>
    public const string Authorization = "authorization";

    public const string BearerPrefix = "Bearer ";

    /// <summary>The caller's task id: the daemon logs the call under it, so one grep finds both sides.</summary>
    public const string TaskId = "taskid";
}
