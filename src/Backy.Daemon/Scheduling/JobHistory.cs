using Backy.Storage.Jobs;
using Backy.Storage.Revisions;

namespace Backy.Daemon.Scheduling;

/// <summary>
/// The revisions of a job directory as scheduling sees them (read side of Backy.Storage). A missing
/// directory is an empty history (a new job); an unreadable revision file fails the job's planning
/// with the storage library's message, and the job backs off like any other failure.
/// </summary>
public static class JobHistory
{
    public static IReadOnlyList<Revision> Read(string jobDir) =>
        Directory.Exists(jobDir) ? new JobDirectory(jobDir).LoadRevisions() : [];

    /// <summary>The newest complete revision, or null.</summary>
    public static Revision? LastComplete(IReadOnlyList<Revision> history) => history.LastOrDefault(r => r.IsComplete);

    public static TimeSpan? Duration(Revision? revision) =>
        revision?.Duration is { } seconds ? TimeSpan.FromSeconds(seconds) : null;
}
