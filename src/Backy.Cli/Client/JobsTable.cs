using Backy.Protocol.V1;
using Backy.Worker;
using Backy.Worker.Progress;
using Google.Protobuf.WellKnownTypes;
using Spectre.Console;

namespace Backy.Cli.Client;

/// <summary>The table of <c>backy client jobs</c>, drawn like the original's (manual, Example):
/// times in the client's time zone named in the headers, humanized durations, dead directories
/// last.</summary>
public static class JobsTable
{
    public static Table Build(IReadOnlyList<JobStatus> jobs, IReadOnlyList<string> dead, TimeZoneInfo zone)
    {
        var table = new Table { Border = TableBorder.HeavyHead }
            .AddColumns("Job", "SLA", "SLA overdue", "Status", $"Last Backup ({zone.Id})", "Last Tags")
            .AddColumn(new TableColumn("Last Duration").RightAligned())
            .AddColumns($"Next Backup ({zone.Id})", "Next Tags")
            .AddColumn(new TableColumn("Stored").RightAligned());
        foreach (var job in jobs.OrderBy(j => j.Name, StringComparer.Ordinal))
            table.AddRow(Cells(
                job.Name,
                job.SlaOk ? "OK" : "TOO OLD",
                Humanized(job.SlaOverdue),
                StatusText(job),
                LocalTime(job.LastTime, zone),
                string.Join(',', job.LastTags),
                Humanized(job.LastDuration),
                LocalTime(job.NextTime, zone),
                string.Join(',', job.NextTags),
                // Bytes of the job's chunk files on disk; "-" from a daemon that does not send it or without a directory.
                job.HasStoredBytes ? Humanize.Size(job.StoredBytes) : "-"));
        foreach (var name in dead)
            table.AddRow(Cells(name, "-", "-", "Dead", "-", "", "-", "-", "", "-"));
        return table;
    }

    /// <summary>The status, and for a running job how far it is: "running (fast) 42 %, 3 min left".</summary>
    public static string StatusText(JobStatus job) =>
        job.Progress is { } p ? $"{job.Status} {ProgressText.Short(p.Percent, p.Remaining?.ToTimeSpan())}" : job.Status;

    public static string Footer(int rows) => rows == 1 ? "1 job shown" : $"{rows} jobs shown";

    public static string LocalTime(Timestamp? time, TimeZoneInfo zone) =>
        time is null ? "-" : TimeZoneInfo.ConvertTime(time.ToDateTimeOffset(), zone).ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);

    private static string Humanized(Duration? duration) =>
        duration is null || duration.ToTimeSpan() <= TimeSpan.Zero ? "-" : Humanize.Duration(duration.ToTimeSpan());

    /// <summary>Names and tags come from configuration files and the network: never markup.</summary>
    private static Spectre.Console.Rendering.IRenderable[] Cells(params string[] values) =>
        values.Select(v => (Spectre.Console.Rendering.IRenderable)new Text(v)).ToArray();
}
