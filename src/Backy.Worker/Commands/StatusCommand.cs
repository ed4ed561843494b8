using System.CommandLine;
using System.Globalization;
using Backy.Storage;
using Backy.Storage.Editing;
using Backy.Storage.IO;
using Backy.Storage.Legacy;
using Backy.Storage.Revisions;
using Backy.Storage.Schedules;
using Backy.Storage.Space;
using Backy.Worker.Copies;
using Spectre.Console;
using YamlDotNet.RepresentationModel;

namespace Backy.Worker.Commands;

/// <summary><c>status [--yaml]</c>: the job's revisions as a table (or as the list of .rev mappings), oldest first.</summary>
public static class StatusCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var yaml = new Option<bool>("--yaml") { Description = "Print the revisions' metadata as YAML" };
        var command = new Command("status", "Show the revisions of the job") { yaml };
        var from = new FromCopyOptions();
        from.AddTo(command);
        command.SetAction((parse, ct) => parse.GetValue(from.From) is not null
            ? FromCopyCommands.StatusAsync(parse, globals, from, yaml, ct)
            : JobCommandLine.RunAsync(parse, globals, "status", (ctx, _) =>
        {
            ctx.Job.EnsureExists();
            var scan = ctx.Job.ScanRevisions();
            var revisions = scan.Revisions;
            var space = JobSpace.Of(ctx.Job, scan, ctx.Time, ct);
            if (parse.GetValue(yaml))
                ctx.Out.Write(YamlTree.Serialize(new YamlSequenceNode(revisions.Select(r => (YamlNode)ToYaml(r, space)))));
            else
            {
                Schedule? schedule = null;
                try { schedule = File.Exists(ctx.Job.ConfigPath) ? ctx.Job.LoadConfig().Schedule : null; }
                catch (ConfigException) { /* status still works with a broken config; tags are then sorted by name */ }
                WriteTable(ctx.Out, revisions, schedule, TimeZoneInfo.Local, space);
            }
            return Task.FromResult(0);
        }, ct));
        return command;
    }

    /// <summary>
    /// The <c>.rev</c> mapping plus <c>exclusive_bytes</c> (bytes of the chunk files only this revision uses; absent when
    /// unknown or the revision has no data here). A key of its own beside the original's fields rather than inside
    /// <c>stats</c>: the list stays what the original prints (the backup-completed-callback's input), a reader that
    /// knows only the original's keys ignores it, and <c>stats</c> stays exactly what the <c>.rev</c> holds.
    /// </summary>
    public static YamlMappingNode ToYaml(Revision revision, JobSpace? space)
    {
        var node = RevisionFile.ToYaml(revision);
        if (space?.ExclusiveOf(revision.Id) is { } bytes)
            node.Add("exclusive_bytes", YamlTree.Plain(bytes.ToString(CultureInfo.InvariantCulture)));
        return node;
    }

    /// <param name="space">Where the job's space goes; null for a copy (<c>status --from</c>), whose sizes are the
    /// object store's.</param>
    public static void WriteTable(TextWriter output, IReadOnlyList<Revision> revisions, Schedule? schedule, TimeZoneInfo zone, JobSpace? space = null)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        // Redirected output has no width: let the table be as wide as its content instead of wrapping at 80.
        if (Console.IsOutputRedirected || !ReferenceEquals(output, Console.Out)) console.Profile.Width = 240;
        var table = new Table().Border(TableBorder.HeavyHead);
        table.AddColumn($"Date ({zone.Id})");
        table.AddColumn("ID");
        table.AddColumn(new TableColumn("Size").RightAligned());
        if (space is not null) table.AddColumn(new TableColumn("Exclusive").RightAligned());
        table.AddColumn(new TableColumn("Duration").RightAligned());
        table.AddColumn("Tags");
        table.AddColumn("Trust");
        table.AddColumn("Server");
        // Only while `upgrade` has work left: which revisions are still in the original's format.
        var showFormat = revisions.Any(r => LegacyFormat.IsLegacy(r.BackendType));
        if (showFormat) table.AddColumn("Format");
        foreach (var r in revisions)
        {
            List<string> cells = [
                Markup.Escape(TimeZoneInfo.ConvertTime(r.Timestamp, zone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)),
                Markup.Escape(r.Id),
                Markup.Escape(Humanize.Size(r.BytesWritten)),
                // The manual: incomplete revisions show a zero duration.
                Markup.Escape(r.Duration is { } d ? Humanize.Duration(TimeSpan.FromSeconds(d)) : "0 seconds"),
                Markup.Escape(TagDisplay.Format(r, schedule)),
                Markup.Escape(r.Trust.ToText()),
                Markup.Escape(r.Server)];
            // Exclusive: what forgetting this revision and purging would free; "-" without data here or when unknown.
            if (space is not null) cells.Insert(3, space.ExclusiveOf(r.Id) is { } exclusive ? Humanize.Size(exclusive) : "-");
            if (showFormat) cells.Add(Markup.Escape(LegacyFormat.Describe(r.BackendType)));
            table.AddRow([.. cells]);
        }
        console.Write(table);
        var total = revisions.Sum(r => r.BytesWritten);
        output.WriteLine($"{revisions.Count} revisions containing {Humanize.Size(total)} data (estimated)");
        if (space is not null) output.WriteLine(SpaceLine(space));
    }

    /// <summary>"2.3 GiB on disk (chunk files) for 40.0 GiB of images: 17.4x dedup x compression".</summary>
    public static string SpaceLine(JobSpace space) =>
        $"{Humanize.Size(space.StoredBytes)} on disk (chunk files) for {Humanize.Size(space.ImageBytes)} of images: "
        + (space.Ratio is { } ratio ? ratio.ToString("0.0", CultureInfo.InvariantCulture) + "x" : "-") + " dedup x compression";
}
