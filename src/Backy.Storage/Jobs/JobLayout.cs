using System.Globalization;

namespace Backy.Storage.Jobs;

/// <summary>
/// The names in a job directory, in one place (the layout table of Backy.Storage's README): every type that
/// builds a path into a job directory asks here, so a name is changed once. The names are the original
/// backy's where it had one (<c>chunks</c>, <c>config</c>, <c>backy.log</c>, <c>.backup</c>, <c>.purge</c>,
/// <c>.purge_pending</c>, <c>.rev</c>): existing directories and operators know them. Frozen.
/// </summary>
public static class JobLayout
{
    /// <summary>Chunk files (<see cref="Chunks.ChunkStore"/>, and the original's <c>.chunk.lzo</c> files before upgrade).</summary>
    public const string ChunksDirectoryName = "chunks";

    /// <summary>Inside <see cref="ChunksDirectoryName"/>: what <c>status</c> computed of the job's space (<see cref="Space.SpaceCache"/>).</summary>
    public const string SpaceCacheFileName = ".space";

    /// <summary>Blocks that did not match the source (<see cref="Quarantine.QuarantineStore"/>).</summary>
    public const string QuarantineDirectoryName = "quarantine";

    /// <summary>Hard links to the chunk maps of revisions being served (<see cref="Locks.RevisionPin"/>).</summary>
    public const string PinsDirectoryName = "pins";

    /// <summary>Per copy target: what it holds, its last attempt, its lock (<see cref="Copies.CopyEngine"/>).</summary>
    public const string CopiesDirectoryName = "copies";

    /// <summary>The job's settings, written by the daemon (<see cref="JobConfig"/>).</summary>
    public const string ConfigFileName = "config";

    /// <summary>The job's log, where backy-worker appends when no <c>-l</c> is given.</summary>
    public const string LogFileName = "backy.log";

    /// <summary>Revision metadata is <c>&lt;id&gt;.rev</c> beside its chunk map <c>&lt;id&gt;</c> (<see cref="Revisions.RevisionFile"/>).</summary>
    public const string RevisionExtension = ".rev";

    /// <summary>Lock files (<see cref="Locks.JobLocks"/>).</summary>
    public const string BackupLockName = ".backup";
    public const string PurgeLockName = ".purge";

    /// <summary>Marker a peer leaves in a dead backup (a directory without a configured job) for the daemon's
    /// housekeeping to purge it.</summary>
    public const string PurgePendingMarker = ".purge_pending";

    /// <summary>Timestamps in the YAML files of a job (<c>.rev</c>, quarantine reports): UTC, microseconds, the
    /// original's shape (Python's <c>isoformat()</c> of an aware datetime).</summary>
    public const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffffzzz";

    public static string FormatTimestamp(DateTimeOffset time) =>
        time.ToUniversalTime().ToString(TimestampFormat, CultureInfo.InvariantCulture);

    /// <summary>
    /// Whether an entry of a base directory can be a job's directory: hidden entries (<c>.lock</c>, editors' files)
    /// and symbolic links (which could lead out of the base directory or onto another job) are not. With no job
    /// configured under its name, such a directory is a dead backup.
    /// </summary>
    public static bool IsJobDirectoryEntry(DirectoryInfo entry) =>
        entry.LinkTarget is null && !entry.Name.StartsWith('.');
}
