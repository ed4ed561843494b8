using Microsoft.Extensions.Logging;

namespace Backy.Storage.Copies;

/// <summary>Log messages of off-site copies. Event ids are stable: 17xx.</summary>
internal static partial class CopyLog
{
    [LoggerMessage(1701, LogLevel.Information, "Copied revision {Revision} to {Url}: {Chunks} chunks uploaded ({Bytes} bytes) in {Seconds:F2} s")]
    public static partial void RevisionCopied(this ILogger logger, string revision, string url, long chunks, long bytes, double seconds);

    [LoggerMessage(1702, LogLevel.Information, "Copy to {Url} finished: {Revisions} revisions, {Chunks} chunks ({Bytes} bytes) in {Seconds:F2} s")]
    public static partial void CopyFinished(this ILogger logger, string url, int revisions, long chunks, long bytes, double seconds);

    [LoggerMessage(1703, LogLevel.Information, "Copy {Url} is up to date ({Revisions} revisions)")]
    public static partial void CopyUpToDate(this ILogger logger, string url, int revisions);

    [LoggerMessage(1704, LogLevel.Warning, "Revision {Revision} is not copied: {Reason}")]
    public static partial void CopySkipped(this ILogger logger, string revision, string reason);

    [LoggerMessage(1705, LogLevel.Information, "Chunk record of {Url} rebuilt from a listing: {Listed} chunk objects, {Present} of the needed ones present")]
    public static partial void CopyRecordRebuilt(this ILogger logger, string url, int listed, int present);

    [LoggerMessage(1706, LogLevel.Information, "Revision {Revision}: Object Lock of {Chunks} reused chunk objects in {Url} extended to {Until}")]
    public static partial void CopyLocksExtended(this ILogger logger, string revision, string url, int chunks, DateTimeOffset until);

    [LoggerMessage(1710, LogLevel.Information, "Restoring revision {Revision} ({Size} bytes) from {Url} to {Target}")]
    public static partial void CopyRestoreStarted(this ILogger logger, string revision, long size, string url, string target);

    [LoggerMessage(1711, LogLevel.Information, "Restore of {Revision} from the copy finished in {Seconds:F2} s")]
    public static partial void CopyRestoreFinished(this ILogger logger, string revision, double seconds);

    [LoggerMessage(1720, LogLevel.Information, "Revision {Revision} in {Url} verified: {Chunks} chunks")]
    public static partial void CopyRevisionVerified(this ILogger logger, string revision, string url, int chunks);

    [LoggerMessage(1721, LogLevel.Error, "Revision {Revision} in {Url} is damaged: {Reason}")]
    public static partial void CopyRevisionDamaged(this ILogger logger, string revision, string url, string reason);

    [LoggerMessage(1730, LogLevel.Information, "Revision {Revision} in {Url}: expired tags {Tags}")]
    public static partial void CopyTagsExpired(this ILogger logger, string revision, string url, string tags);

    [LoggerMessage(1731, LogLevel.Information, "Revision {Revision} removed from {Url} (expired)")]
    public static partial void CopyRevisionRemoved(this ILogger logger, string revision, string url);

    [LoggerMessage(1732, LogLevel.Information, "Revision {Revision} in {Url} has expired but stays until its object lock ends at {Until}")]
    public static partial void CopyRevisionLocked(this ILogger logger, string revision, string url, DateTimeOffset until);

    [LoggerMessage(1733, LogLevel.Information, "Purge of {Url}: {Removed} unreferenced chunk objects removed, {Kept} kept")]
    public static partial void CopyPurged(this ILogger logger, string url, int removed, int kept);
}
