using Backy.Protocol.V1;
using Backy.Worker;

namespace Backy.Cli.Client;

/// <summary>Nagios plugin states; the numbers are the plugin exit codes monitoring expects.</summary>
public enum CheckState
{
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}

/// <summary>
/// <c>backy client check</c>: a Nagios-style status line (<c>OK - 12 jobs within SLA</c>), then one
/// detail line per finding. CRITICAL when a job is overdue, WARNING when quarantine reports exist or an off-site copy is behind;
/// manual tags and unsynced peer revisions are informational.
/// </summary>
public sealed record CheckReport(CheckState State, IReadOnlyList<string> Lines)
{
    public static CheckReport From(IReadOnlyList<JobStatus> jobs, TimeZoneInfo zone)
    {
        var sorted = jobs.OrderBy(j => j.Name, StringComparer.Ordinal).ToList();
        var overdue = sorted.Where(j => !j.SlaOk).ToList();
        var quarantined = sorted.Where(j => j.QuarantineReports > 0).ToList();
        var copiesBehind = sorted.Where(j => j.CopiesBehind.Count > 0).ToList();

        var lines = new List<string>();
        if (overdue.Count > 0)
            lines.Add($"CRITICAL - {Jobs(overdue.Count)} overdue: {Names(overdue)}");
        else if (quarantined.Count > 0)
            lines.Add($"WARNING - quarantine reports in {Jobs(quarantined.Count)}: {Names(quarantined)}");
        else if (copiesBehind.Count > 0)
            lines.Add($"WARNING - off-site copies behind in {Jobs(copiesBehind.Count)}: {Names(copiesBehind)}");
        else
            lines.Add($"OK - {Jobs(sorted.Count)} within SLA");

        foreach (var job in overdue)
            lines.Add($"{job.Name}: SLA overdue by {Humanize.Duration(job.SlaOverdue?.ToTimeSpan() ?? TimeSpan.Zero)}, "
                      + (job.LastTime is null ? "no backup yet" : $"last backup {JobsTable.LocalTime(job.LastTime, zone)} ({zone.Id})"));
        foreach (var job in quarantined)
            lines.Add($"{job.Name}: {job.QuarantineReports} quarantine report{(job.QuarantineReports == 1 ? "" : "s")}");
        foreach (var job in copiesBehind)
            foreach (var behind in job.CopiesBehind)
                lines.Add($"{job.Name}: copy {behind}");
        foreach (var job in sorted.Where(j => j.UnsyncedRevisions > 0))
            lines.Add($"{job.Name}: {job.UnsyncedRevisions} revision{(job.UnsyncedRevisions == 1 ? "" : "s")} with tag changes not yet pushed to their server");
        foreach (var job in sorted.Where(j => j.ManualTags.Count > 0))
            lines.Add($"{job.Name}: manual tags {string.Join(", ", job.ManualTags)}");

        var state = overdue.Count > 0 ? CheckState.Critical : quarantined.Count > 0 || copiesBehind.Count > 0 ? CheckState.Warning : CheckState.Ok;
        return new CheckReport(state, lines);
    }

    public static CheckReport Unknown(string reason) => new(CheckState.Unknown, [$"UNKNOWN - {reason}"]);

    private static string Jobs(int n) => n == 1 ? "1 job" : $"{n} jobs";

    private static string Names(IEnumerable<JobStatus> jobs) => string.Join(", ", jobs.Select(j => j.Name));
}
