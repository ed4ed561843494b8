using Backy.Storage.Revisions;
using Backy.Storage.Schedules;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Editing;

public sealed partial class RevisionEditor
{
    /// <summary>
    /// Applies <see cref="RetentionPolicy"/> to every revision, local and peer: expired tags are
    /// removed and revisions left without tags are removed (see <see cref="Remove"/>).
    /// </summary>
    public RetentionResult Expire()
    {
        using var store = Lock("expire");
        // Without a schedule every tag would count as "of a former schedule" and every revision
        // would go: refuse instead of deleting a job's backups over a missing config key.
        var schedule = job.LoadConfig().Schedule
            ?? throw new ConfigException($"cannot expire job '{job.Path}': its config has no schedule");
        var revisions = job.LoadRevisions();
        var result = RetentionPolicy.Evaluate(schedule, revisions.ToHistory(), clock);
        var byId = revisions.ToDictionary(r => r.Id);
        foreach (var change in result.Changes)
        {
            var r = byId[change.Id];
            r.Tags = new SortedSet<string>(change.RemainingTags, StringComparer.Ordinal);
            LogTagsExpired(logger, r.Id, TagActions.Show(change.RemovedTags));
            if (r.Tags.Count > 0)
                store.Write(r);
        }
        // A peer revision that had no tags before is already pending removal: nothing to write.
        var changed = result.Changes.Select(c => c.Id).ToHashSet();
        foreach (var r in result.Deleted.Select(id => byId[id]).Where(r => r.IsLocal || changed.Contains(r.Id)))
            Remove(store, r);
        return result;
    }

    [LoggerMessage(EventId = 1830, Level = LogLevel.Information, Message = "revision {Revision}: expired tags {Tags}")]
    private static partial void LogTagsExpired(ILogger logger, string revision, string tags);
}
