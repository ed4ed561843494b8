using Microsoft.Extensions.Logging;

namespace Backy.Worker.Nbd;

/// <summary>Log messages of the NBD server. Event ids 21xx.</summary>
internal static partial class NbdLog
{
    [LoggerMessage(2101, LogLevel.Information, "NBD server listening on {Address}: {Count} revision(s), {Mode}")]
    public static partial void Listening(this ILogger logger, string address, int count, string mode);

    [LoggerMessage(2102, LogLevel.Information, "Export {Revision} opened ({Size} bytes, writable {Writable})")]
    public static partial void ExportOpened(this ILogger logger, string revision, long size, bool writable);

    [LoggerMessage(2103, LogLevel.Error, "Read of revision {Revision} failed at block {Block} (offset {Offset}), chunk {Chunk}: {Reason}")]
    public static partial void ReadFailed(this ILogger logger, string revision, long block, long offset, string chunk, string reason);

    [LoggerMessage(2104, LogLevel.Warning, "Distrusted {Count} revision(s) after a read error")]
    public static partial void DistrustedAfterReadError(this ILogger logger, int count);

    [LoggerMessage(2105, LogLevel.Warning, "Could not distrust the revisions after a read error yet: {Reason}")]
    public static partial void DistrustDeferred(this ILogger logger, string reason);

    [LoggerMessage(2106, LogLevel.Debug, "Connection {Connection} from {Peer}")]
    public static partial void Connected(this ILogger logger, long connection, string peer);

    [LoggerMessage(2107, LogLevel.Information, "Connection {Connection} closed: {Reason}")]
    public static partial void ConnectionClosed(this ILogger logger, long connection, string reason);

    [LoggerMessage(2108, LogLevel.Warning, "Refusing connection from {Peer}: {Limit} connections are open")]
    public static partial void TooManyConnections(this ILogger logger, string peer, int limit);

    [LoggerMessage(2109, LogLevel.Information, "Client on connection {Connection} chose export {Revision}")]
    public static partial void ExportChosen(this ILogger logger, long connection, string revision);

    [LoggerMessage(2113, LogLevel.Information, "Block cache: {Hits} reads of a decoded block, {Misses} chunk decodes for reads, {Prefetches} read-ahead decodes (bound {CacheMiB} MiB)")]
    public static partial void CacheStatistics(this ILogger logger, long hits, long misses, long prefetches, int cacheMiB);

    [LoggerMessage(2110, LogLevel.Information, "NBD server stopped")]
    public static partial void Stopped(this ILogger logger);

    [LoggerMessage(2111, LogLevel.Error, "Connection {Connection} failed in the server and was closed: {Reason}")]
    public static partial void ConnectionFailed(this ILogger logger, long connection, string reason);

    [LoggerMessage(2112, LogLevel.Error, "Connection {Connection}: request type {Type} at {Offset} ({Length} bytes) failed in the server; the connection is closed: {Reason}")]
    public static partial void RequestFailed(this ILogger logger, long connection, ushort type, long offset, uint length, string reason);
}
