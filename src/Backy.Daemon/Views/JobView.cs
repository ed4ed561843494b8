using Backy.Storage.Editing;
using Backy.Storage.Jobs;
using Backy.Storage.Revisions;
using Backy.Storage.Schedules;

namespace Backy.Daemon.Views;

/// <summary>
/// Everything the daemon knows about a job from its directory, read in one pass: the one read model of a
/// job (issue 14.6; STYLE "one view of a job"). The planner (schedule and speed class), every job snapshot
/// (SLA, Last Backup, manual tags, counts), the API and so <c>check</c> all read it through
/// <see cref="JobViewCache"/>, so a revision that appears on disk, by the scheduler's run or by a manual
/// backup, shows everywhere at once. A missing directory is the empty view (a new job); an unreadable
/// revision file fails the read with the storage library's message.
/// </summary>
/// <param name="Revisions">Every readable revision, oldest first, incomplete ones included (the schedule
/// and the next backup's cleanup need them).</param>
/// <param name="ManualTags">Tags starting with <c>manual:</c> on complete revisions, sorted.</param>
/// <param name="QuarantineReports">Chunk reports in the job's quarantine directory.</param>
/// <param name="UnsyncedRevisions">Peer revisions whose tags differ from what the peer has.</param>
/// <param name="LocalRevisions">Complete revisions whose data is on this server.</param>
public sealed record JobView(
    IReadOnlyList<Revision> Revisions, IReadOnlyList<string> ManualTags, int QuarantineReports, int UnsyncedRevisions, int LocalRevisions)
{
    public static JobView Empty { get; } = new([], [], 0, 0, 0);

    /// <summary>The newest complete revision, or null.</summary>
    public Revision? LastComplete => Revisions.LastOrDefault(r => r.IsComplete);

    /// <summary>How long the newest complete revision's backup took, or null.</summary>
    public TimeSpan? LastDuration => LastComplete?.Duration is { } seconds ? TimeSpan.FromSeconds(seconds) : null;

    /// <summary>The revisions as the schedule reads them.</summary>
    public IReadOnlyList<RevisionHistoryEntry> History => Revisions.ToHistory();

    public static JobView Read(string jobDir)
    {
        if (!Directory.Exists(jobDir))
            return Empty;
        var directory = new JobDirectory(jobDir);
        var all = directory.LoadRevisions();
        var complete = all.Where(r => r.IsComplete).ToList();
        return new JobView(
            all,
            complete.SelectMany(r => r.Tags).Where(TagValidation.IsManual).Distinct().Order(StringComparer.Ordinal).ToList(),
            directory.Quarantine.Count,
            complete.Count(TagDisplay.HasPendingChanges),
            complete.Count(r => r.IsLocal));
    }
}
