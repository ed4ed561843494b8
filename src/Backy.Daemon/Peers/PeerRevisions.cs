using Backy.Storage.Editing;
using Backy.Storage.Jobs;
using Backy.Storage.Revisions;
using Microsoft.Extensions.Logging.Abstractions;

namespace Backy.Daemon.Peers;

/// <summary>
/// The local side of peer sync: metadata-only <c>.rev</c> files (<c>server</c> set, no chunk map)
/// in a job directory. Every change goes through the job's <see cref="RevisionStore"/> (which holds the
/// <c>.backup</c> lock), like any revision edit, but never across a network call.
/// </summary>
internal static class PeerRevisions
{
    /// <summary>What a pull changed locally.</summary>
    public sealed record PullResult(int Added, int Updated, int Dropped, IReadOnlyList<string> Refused);

    /// <summary>
    /// Makes the local revisions of <paramref name="server"/> match what it reported. A revision
    /// with pending local tag changes (tags != orig_tags) keeps them while the peer still has the
    /// tags they were made against; once the peer's tags changed, the peer's state wins (the
    /// change is re-derived by the next expire).
    /// </summary>
    public static PullResult Merge(JobDirectory job, string server, IReadOnlyList<Revision> remote)
    {
        using var store = RevisionStore.Open(job, $"sync revisions of peer '{server}' into", NullLogger.Instance);
        var local = job.LoadRevisions().ToDictionary(r => r.Id, StringComparer.Ordinal);
        var refused = new List<string>();
        int added = 0, updated = 0, dropped = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var theirs in remote)
        {
            // The id becomes a file name here: only a well-formed uuid, never a path.
            if (!RevisionId.IsValid(theirs.Id) || local.TryGetValue(theirs.Id, out var clash) && clash.Server != server)
            {
                refused.Add(theirs.Id);
                continue;
            }
            seen.Add(theirs.Id);
            // The tags the peer has now are what we last saw there.
            var incoming = Stored(theirs, server);
            if (local.TryGetValue(theirs.Id, out var mine))
            {
                if (mine.OrigTags.SetEquals(incoming.OrigTags))
                    incoming.Tags = mine.Tags;
                if (RevisionFile.Serialize(mine) == RevisionFile.Serialize(incoming))
                    continue;
                updated++;
            }
            else
            {
                added++;
            }
            store.Write(incoming);
        }
        foreach (var gone in local.Values.Where(r => r.Server == server && !seen.Contains(r.Id)))
        {
            store.Remove(gone.Id);
            dropped++;
        }
        return new PullResult(added, updated, dropped, refused);
    }

    /// <summary>Drops the revisions of servers that are no longer configured peers.</summary>
    public static IReadOnlyList<Revision> DropUnknownServers(JobDirectory job, IReadOnlySet<string> peers)
    {
        var stale = job.LoadRevisions().Where(r => !r.IsLocal && !peers.Contains(r.Server)).ToList();
        if (stale.Count == 0)
            return [];
        using var store = RevisionStore.Open(job, "drop revisions of unconfigured peers from", NullLogger.Instance);
        foreach (var r in stale)
            store.Remove(r.Id);
        return stale;
    }

    /// <summary>Revisions of <paramref name="server"/> whose tags changed here and are not on the peer yet.</summary>
    public static IReadOnlyList<Revision> Unsynced(JobDirectory job, string server) =>
        job.LoadRevisions().Where(r => r.Server == server && TagDisplay.HasPendingChanges(r)).ToList();

    /// <summary>Records that the peer accepted <paramref name="pushed"/>: the revision is gone
    /// there (<paramref name="removed"/>) or now carries the pushed tags.</summary>
    public static void Pushed(JobDirectory job, Revision pushed, bool removed)
    {
        using var store = RevisionStore.Open(job, $"record pushed tags of peer '{pushed.Server}' in", NullLogger.Instance);
        if (!File.Exists(job.RevisionPath(pushed.Id)))
            return;
        if (removed)
        {
            store.Remove(pushed.Id);
            return;
        }
        var current = job.LoadRevision(pushed.Id);
        current.OrigTags = new SortedSet<string>(pushed.Tags, StringComparer.Ordinal);
        store.Write(current);
    }

    /// <summary>The local copy: the peer's tags are both current and original; server is the peer's name here.</summary>
    private static Revision Stored(Revision theirs, string server) => new()
    {
        Id = theirs.Id,
        Timestamp = theirs.Timestamp,
        Parent = theirs.Parent,
        Trust = theirs.Trust,
        Tags = new SortedSet<string>(theirs.Tags, StringComparer.Ordinal),
        OrigTags = new SortedSet<string>(theirs.Tags, StringComparer.Ordinal),
        Server = server,
        BytesWritten = theirs.BytesWritten,
        Duration = theirs.Duration,
    };
}
