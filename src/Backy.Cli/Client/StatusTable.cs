using Backy.Protocol.V1;
using Spectre.Console;

namespace Backy.Cli.Client;

/// <summary><c>backy client status</c>: how many jobs are in each state, dead directories as
/// "Dead".</summary>
public static class StatusTable
{
    public const string Dead = "Dead";

    public static IReadOnlyList<(string State, int Count)> Count(IEnumerable<JobStatus> jobs, int dead) =>
        jobs.Select(j => j.Status).Concat(Enumerable.Repeat(Dead, dead))
            .GroupBy(s => s)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count()))
            .ToList();

    public static Table Build(IReadOnlyList<(string State, int Count)> counts)
    {
        var table = new Table { Border = TableBorder.HeavyHead }
            .AddColumn("Status")
            .AddColumn(new TableColumn("#").RightAligned());
        foreach (var (state, count) in counts)
            table.AddRow(new Text(state), new Text(count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return table;
    }

    /// <summary>One line per running job that reports progress: "vm1: running (fast) 42 %, 3 min left".</summary>
    public static IEnumerable<string> Running(IEnumerable<JobStatus> jobs) =>
        jobs.Where(j => j.Progress is not null).OrderBy(j => j.Name, StringComparer.Ordinal).Select(j => $"{j.Name}: {JobsTable.StatusText(j)}");
}
