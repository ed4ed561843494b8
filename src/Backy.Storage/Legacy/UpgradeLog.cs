using Microsoft.Extensions.Logging;

namespace Backy.Storage.Legacy;

internal static partial class UpgradeLog
{
    [LoggerMessage(EventId = 1901, Level = LogLevel.Information, Message = "upgrade: converting revision {Revision} ({Format}, {Size} bytes)")]
    public static partial void Converting(ILogger logger, string revision, string format, long size);

    [LoggerMessage(EventId = 1902, Level = LogLevel.Information, Message = "upgrade: revision {Revision} converted, {Chunks} new chunk file(s)")]
    public static partial void Converted(ILogger logger, string revision, long chunks);

    [LoggerMessage(EventId = 1903, Level = LogLevel.Error, Message = "upgrade: revision {Revision} left in its old format - {Reason}")]
    public static partial void Failed(ILogger logger, string revision, string reason);

    [LoggerMessage(EventId = 1904, Level = LogLevel.Warning, Message = "upgrade: rolled back the interrupted conversion of revision {Revision}")]
    public static partial void RolledBack(ILogger logger, string revision);

    [LoggerMessage(EventId = 1905, Level = LogLevel.Information, Message = "upgrade: finished the interrupted conversion of revision {Revision}")]
    public static partial void Finished(ILogger logger, string revision);

    [LoggerMessage(EventId = 1906, Level = LogLevel.Information, Message = "upgrade: removed {Count} old chunk file(s) no revision uses")]
    public static partial void Swept(ILogger logger, long count);

    [LoggerMessage(EventId = 1907, Level = LogLevel.Information, Message = "upgrade: revision {Revision} skipped - {Reason}")]
    public static partial void Skipped(ILogger logger, string revision, string reason);

    [LoggerMessage(EventId = 1908, Level = LogLevel.Warning, Message = "purge: old-format chunks kept - {Reason}")]
    public static partial void LegacySweepSkipped(ILogger logger, string reason);
}
