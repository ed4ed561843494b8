using Backy.Storage.Jobs;
using Backy.Storage.Revisions;
using Backy.Storage.Schedules;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Editing;

/// <summary>
/// The commands that change revision metadata without touching chunks: distrust, forget, tags,
/// expire. Each holds the job's <c>.backup</c> lock (exclusive, non-blocking) for its whole
/// read-modify-write, so it never races a backup or another edit.
/// </summary>
/// <remarks>
/// Peer revisions (<see cref="Revision.Server"/> set) are only metadata here; their data lives on
/// the peer. "Removing" one therefore clears its tags and keeps the .rev, so that peer sync can
/// push the removal to the peer (as the original's <c>Revision.remove</c> does for remote revisions).
/// </remarks>
public sealed partial class RevisionEditor(JobDirectory job, TimeProvider clock, ILogger logger)
{
    /// <summary>The job's revision store: the <c>.backup</c> lock, held for the whole read-modify-write.</summary>
    private RevisionStore Lock(string action) => RevisionStore.Open(job, action, logger);

    /// <summary>Deletes a local revision; marks a peer revision for removal on its peer.</summary>
    /// <returns>True when the revision's files were deleted.</returns>
    private bool Remove(RevisionStore store, Revision revision)
    {
        if (revision.IsLocal)
        {
            store.Remove(revision.Id);
            LogRemoved(logger, revision.Id);
            return true;
        }
        revision.Tags = new SortedSet<string>(StringComparer.Ordinal);
        store.Write(revision);
        LogPeerRemovalPending(logger, revision.Id, revision.Server);
        return false;
    }

    private Schedule LoadSchedule() => job.LoadConfig().Schedule ?? new Schedule([]);

    /// <summary>
    /// Forgets one revision (<c>forget -r</c>); also a damaged one, named by its id. Its chunks stay until the
    /// next purge.
    /// </summary>
    /// <returns>The id of the revision removed.</returns>
    public string Forget(string spec)
    {
        using var store = Lock("forget a revision of");
        if (job.DamagedRevision(spec.Trim()) is { } bad)
        {
            // Only by its exact id: removing a revision whose metadata cannot be read is the operator's call.
            store.Remove(bad.Id);
            LogRemovedDamaged(logger, bad.Id, bad.Reason);
            return bad.Id;
        }
        // forget is the one command for an incomplete revision, by its id (RevisionSpec).
        var revision = job.Resolve(spec, job.LoadRevisions(), incompleteById: true);
        Remove(store, revision);
        return revision.Id;
    }

    [LoggerMessage(EventId = 1803, Level = LogLevel.Warning, Message = "removed damaged revision {Revision} ({Reason})")]
    private static partial void LogRemovedDamaged(ILogger logger, string revision, string reason);

    [LoggerMessage(EventId = 1801, Level = LogLevel.Information, Message = "removed revision {Revision}")]
    private static partial void LogRemoved(ILogger logger, string revision);

    [LoggerMessage(EventId = 1802, Level = LogLevel.Information, Message = "peer revision {Revision} has no tags left: removal pending on peer {Server}")]
    private static partial void LogPeerRemovalPending(ILogger logger, string revision, string server);
}
