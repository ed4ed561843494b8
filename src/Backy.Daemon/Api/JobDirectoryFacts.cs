using Backy.Storage.Editing;
using Backy.Storage.Jobs;
using Backy.Storage.Schedules;

namespace Backy.Daemon.Api;

/// <summary>What <c>status</c> reports about a job directory beyond the daemon's own state,
/// read from disk (through <see cref="JobFactsCache"/>, which re-reads a directory as soon as it changes).</summary>
/// <param name="ManualTags">Tags starting with <c>manual:</c> on complete revisions, sorted.</param>
/// <param name="UnsyncedRevisions">Peer revisions whose tags differ from what the peer has.</param>
/// <param name="LocalRevisions">Complete revisions whose data is on this server.</param>
public sealed record JobDirectoryFacts(
    IReadOnlyList<string> ManualTags, int QuarantineReports, int UnsyncedRevisions, int LocalRevisions)
{
    public static JobDirectoryFacts Empty { get; } = new([], 0, 0, 0);

    public static JobDirectoryFacts Read(JobDirectory directory)
    {
        var complete = directory.CompleteRevisions();
        return new JobDirectoryFacts(
            complete.SelectMany(r => r.Tags).Where(TagValidation.IsManual)
                .Distinct().Order(StringComparer.Ordinal).ToList(),
            directory.Quarantine.Count,
            complete.Count(TagDisplay.HasPendingChanges),
            complete.Count(r => r.IsLocal));
    }
}
