using Backy.Daemon.Config;
using Backy.Storage.Copies;

namespace Backy.Daemon.Api;

/// <summary>
/// Which of a job's off-site copies are behind: the last successful copy (copies/NAME.status, written by
/// `backy copy`) is more than 1.5 x the schedule's shortest interval old, the same margin as the SLA. Read at
/// request time (not cached with the directory facts): the lag grows while nothing on disk changes.
/// </summary>
public static class CopyLag
{
    public static IReadOnlyList<string> Behind(JobDefinition? job, string jobDir, DateTimeOffset? lastBackup, DateTimeOffset now)
    {
        if (job is null || job.Copies.Targets.Count == 0 || job.Schedule.Intervals.Count == 0)
            return [];
        var limit = job.Schedule.Intervals.Min(i => i.Interval) * 1.5;
        var behind = new List<string>();
        foreach (var target in job.Copies.Targets)
        {
            var status = CopyStatusFile.TryRead(jobDir, target.Name);
            var error = status?.LastError is { } e ? $" (last attempt failed: {e})" : "";
            if (status?.LastSuccess is { } success)
            {
                if (now - success > limit)
                    behind.Add($"{target.Name}: last successful copy {Storage.Schedules.Durations.Format(now - success)} ago{error}");
            }
            // Never copied: behind at once when an attempt failed; when none ran yet (no status), once the newest
            // backup is older than the margin (the daemon copies right after each backup).
            else if (status is not null ? status.LastError is not null : lastBackup is { } last && now - last > limit)
                behind.Add($"{target.Name}: never copied{error}");
        }
        return behind;
    }
}
