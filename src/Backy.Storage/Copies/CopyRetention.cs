using System.Text;
using Backy.Storage.Editing;
using Backy.Storage.Revisions;
using Backy.Storage.Schedules;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Copies;

/// <summary>
/// Expire on the copy: the job's schedule evaluated on the copy's own revisions and tags (never on the local
/// ones: a revision forgotten, lost or distrusted locally stays in the copy until the schedule lets it go).
/// With Object Lock a revision leaves no earlier than its lock ends (its chunk map's upload time plus the lock
/// days; the store would refuse deleting the locked versions anyway, and a delete marker would only hide them),
/// and is kept, without tags, until then. Ids removed here are remembered locally (<c>copies/NAME.expired</c>)
/// so that the next copy does not upload them again.
/// </summary>
public sealed class CopyRetention(CopyRepository copy, ILogger logger, TimeProvider time, int objectLockDays)
{
    /// <summary>Returns the number of revisions removed from the copy.</summary>
    public async Task<int> ExpireAsync(Schedule schedule, string expiredRecordPath, CancellationToken cancellationToken)
    {
        var (revisions, damaged) = await copy.LoadRevisionsAsync(cancellationToken).ConfigureAwait(false);
        if (damaged.Count > 0)
            throw new BackyException($"not expiring {copy.Url}: {damaged.Count} revision file(s) cannot be read ({damaged[0]})");
        var now = time.GetUtcNow();
        var result = RetentionPolicy.Evaluate(schedule, revisions.ToHistory(), now);
        var byId = revisions.ToDictionary(r => r.Id);
        var uploaded = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        if (objectLockDays > 0)
            await foreach (var o in copy.Store.ListAsync(copy.JobPrefix, recursive: false, cancellationToken).ConfigureAwait(false))
                uploaded[o.Key[copy.JobPrefix.Length..]] = o.LastModified;

        foreach (var change in result.Changes)
        {
            var r = byId[change.Id];
            r.Tags = new SortedSet<string>(change.RemainingTags, StringComparer.Ordinal);
            logger.CopyTagsExpired(r.Id, copy.Url, string.Join(",", change.RemovedTags.Order(StringComparer.Ordinal)));
            if (r.Tags.Count > 0 || Locked(r.Id) is not null)
                await copy.PutAsync(CopyLayout.Revision(r.Id), Encoding.UTF8.GetBytes(RevisionFile.Serialize(r)), LockUntil(), cancellationToken).ConfigureAwait(false);
        }
        var removed = 0;
        foreach (var id in result.Deleted)
        {
            if (Locked(id) is { } until)
            {
                logger.CopyRevisionLocked(id, copy.Url, until);
                continue;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(expiredRecordPath)!);
            File.AppendAllText(expiredRecordPath, id + "\n");
            // The .rev first: from then on the revision is gone for every reader; a crash leaves a map, which purge ignores.
            await copy.DeleteAsync(CopyLayout.Revision(id), cancellationToken).ConfigureAwait(false);
            await copy.DeleteAsync(CopyLayout.ChunkMap(id), cancellationToken).ConfigureAwait(false);
            logger.CopyRevisionRemoved(id, copy.Url);
            removed++;
        }
        return removed;

        DateTimeOffset? Locked(string id) =>
            objectLockDays > 0 && uploaded.TryGetValue(CopyLayout.ChunkMap(id), out var at) && at + TimeSpan.FromDays(objectLockDays) > now
                ? at + TimeSpan.FromDays(objectLockDays) : null;
        DateTimeOffset? LockUntil() => objectLockDays > 0 ? now + TimeSpan.FromDays(objectLockDays) : null;
    }

    /// <summary>Revision ids this copy target expired (not to be copied again).</summary>
    public static HashSet<string> ReadExpired(string path)
    {
        try { return File.ReadAllLines(path).Where(l => l.Length > 0).ToHashSet(StringComparer.Ordinal); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return new HashSet<string>(StringComparer.Ordinal); }
    }
}
