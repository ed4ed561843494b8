using Microsoft.Extensions.Logging;

namespace Backy.Storage;

/// <summary>Source-generated log messages of the storage engine. Event ids are stable: 10xx of Storage's 1xxx (the table: README.md, Log event ids).</summary>
internal static partial class StorageLog
{
    [LoggerMessage(1001, LogLevel.Information, "Backup of {Job} started: revision {Revision}, tags {Tags}, parent {Parent}")]
    public static partial void BackupStarted(this ILogger logger, string job, string revision, string tags, string parent);

    [LoggerMessage(1002, LogLevel.Information, "Backup of {Job} finished: revision {Revision}, {Size} bytes, {Chunks} new chunks ({Bytes} bytes written) in {Seconds:F2} s")]
    public static partial void BackupFinished(this ILogger logger, string job, string revision, long size, long chunks, long bytes, double seconds);

    [LoggerMessage(1003, LogLevel.Information, "Removing incomplete revision {Revision}")]
    public static partial void RemovingIncomplete(this ILogger logger, string revision);

    [LoggerMessage(1004, LogLevel.Warning, "Revision {Revision} is distrusted: forced-write mode (every block stored again, no diff)")]
    public static partial void ForcedWrite(this ILogger logger, string revision);

    [LoggerMessage(1005, LogLevel.Information, "Reading {Mode}: {Size} bytes")]
    public static partial void ReadMode(this ILogger logger, string mode, long size);

    [LoggerMessage(1060, LogLevel.Information, "Source reports {Holes} of {Total} blocks as holes: they are not read")]
    public static partial void KnownHoles(this ILogger logger, long holes, long total);

    [LoggerMessage(1061, LogLevel.Debug, "Source cannot tell where its holes are: reading all {Total} blocks")]
    public static partial void HolesUnknown(this ILogger logger, long total);

    // The count of differing blocks is in the line itself: before, "Verified 8 of 8 blocks" came just before "Block 1 ... differs".
    [LoggerMessage(1006, LogLevel.Information, "Compared {Blocks} of {Total} blocks of the source with the store, {Differing} differ ({Decoded} chunks read back and decoded, {Unchanged} read and found unchanged since an earlier decode) in {Seconds:F2} s")]
    public static partial void SourceVerified(this ILogger logger, long blocks, long total, int differing, int decoded, int unchanged, double seconds);

    [LoggerMessage(1007, LogLevel.Error, "Block {Block} (offset {Offset}) differs from the source: stored {Stored}, source {Source}; quarantine report {Report}")]
    public static partial void Quarantined(this ILogger logger, long block, long offset, string stored, string source, string report);

    [LoggerMessage(1008, LogLevel.Error, "Integrity error while reading a chunk: {Message}; distrusting all local revisions")]
    public static partial void IntegrityError(this ILogger logger, string message);

    [LoggerMessage(1009, LogLevel.Warning, "Removed revision {Revision} after a failed backup")]
    public static partial void RemovedFailed(this ILogger logger, string revision);

    [LoggerMessage(1010, LogLevel.Warning, "Parent revision {Revision} unusable ({Message}): reading the whole source without it")]
    public static partial void ParentMapUnreadable(this ILogger logger, string revision, string message);

    [LoggerMessage(1011, LogLevel.Warning, "{Blocks} block(s) keep a parent chunk that is missing (found bad by verify): reading them from the source and storing them again")]
    public static partial void RewritingMissingChunks(this ILogger logger, int blocks);

    [LoggerMessage(1020, LogLevel.Information, "Restoring revision {Revision} ({Size} bytes) to {Target}")]
    public static partial void RestoreStarted(this ILogger logger, string revision, long size, string target);

    [LoggerMessage(1021, LogLevel.Information, "Restore of {Revision} finished in {Seconds:F2} s")]
    public static partial void RestoreFinished(this ILogger logger, string revision, double seconds);

    [LoggerMessage(1022, LogLevel.Warning, "Restore found a bad chunk: waiting up to {Seconds:F0} s for the backup lock to distrust all revisions")]
    public static partial void RestoreDistrustWaiting(this ILogger logger, double seconds);

    [LoggerMessage(1023, LogLevel.Error, "The backup lock stayed held for {Seconds:F0} s: the revisions were NOT distrusted; run distrust when the running command is done")]
    public static partial void RestoreDistrustTimedOut(this ILogger logger, double seconds);

    [LoggerMessage(1030, LogLevel.Information, "Verifying revision {Revision}: {Chunks} chunks to read, {Shared} more read already by this verify")]
    public static partial void VerifyStarted(this ILogger logger, string revision, int chunks, int shared);

    [LoggerMessage(1031, LogLevel.Error, "{Message}; bad chunk file deleted")]
    public static partial void VerifyBadChunk(this ILogger logger, string message);

    [LoggerMessage(1032, LogLevel.Information, "Revision {Revision} verified")]
    public static partial void VerifyPassed(this ILogger logger, string revision);

    [LoggerMessage(1033, LogLevel.Warning, "Revision {Revision} removed after failed verification")]
    public static partial void VerifyRemoved(this ILogger logger, string revision);

    [LoggerMessage(1034, LogLevel.Warning, "Revision {Revision} uses bad chunk {Chunk}: distrusted (the next backup writes every chunk again)")]
    public static partial void VerifyDistrusted(this ILogger logger, string revision, string chunk);

    [LoggerMessage(1035, LogLevel.Warning, "Revision {Revision} not verified and kept: {Reason}")]
    public static partial void VerifyKept(this ILogger logger, string revision, string reason);

    [LoggerMessage(1036, LogLevel.Information, "Verify: {Verified} revision(s) verified, {Removed} removed")]
    public static partial void VerifySummary(this ILogger logger, int verified, int removed);

    [LoggerMessage(1037, LogLevel.Information, "No distrusted revisions to verify")]
    public static partial void NothingToVerify(this ILogger logger);

    [LoggerMessage(1040, LogLevel.Information, "Purge: {Referenced} chunks referenced, {Deleted} unreferenced chunks deleted, {Temp} temp files and {Orphans} orphan chunk maps removed")]
    public static partial void Purged(this ILogger logger, int referenced, int deleted, int temp, int orphans);

    [LoggerMessage(1041, LogLevel.Information, "Waiting for running restores and backups before purging")]
    public static partial void PurgeWaiting(this ILogger logger);

    [LoggerMessage(1050, LogLevel.Warning, "{Reason}; skipping it: its revision is not listed and its chunks are kept until the file is repaired or the revision removed (forget -r {Revision})")]
    public static partial void DamagedRevisionSkipped(this ILogger logger, string reason, string revision);

    [LoggerMessage(1051, LogLevel.Warning, "Purge keeps every chunk: {Reason}, and its chunk map '{Map}' cannot be read either ({Problem}), so which chunks it needs is unknown")]
    public static partial void PurgeKeepsAll(this ILogger logger, string reason, string map, string problem);

    [LoggerMessage(1052, LogLevel.Warning, "Purge keeps every chunk: revision {Revision} cannot be read ({Problem}), so which chunks it needs is unknown")]
    public static partial void PurgeKeepsAllUnreadable(this ILogger logger, string revision, string problem);
}
