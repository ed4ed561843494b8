using Microsoft.Extensions.Logging;

namespace Backy.Storage.Restore;

internal static partial class RestoreLog
{
    [LoggerMessage(1070, LogLevel.Information, "Changed-blocks restore of {Revision} into {Target} finished: {Written} of {Blocks} blocks differed and were written, in {Seconds:F2} s")]
    public static partial void ChangedRestoreFinished(this ILogger logger, string revision, string target, long written, long blocks, double seconds);
}
