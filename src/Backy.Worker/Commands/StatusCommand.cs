using System.CommandLine;
using System.Globalization;
using Backy.Storage;
using Backy.Storage.Editing;
using Backy.Storage.IO;
using Backy.Storage.Legacy;
using Backy.Storage.Revisions;
using Backy.Storage.Schedules;
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
            var revisions = ctx.Job.LoadRevisions();
            if (parse.GetValue(yaml))
                ctx.Out.Write(YamlTree.Serialize(new YamlSequenceNode(revisions.Select(r => (YamlNode)RevisionFile.ToYaml(r)))));
            else
            {
                Schedule? schedule = null;
                try { schedule = File.Exists(ctx.Job.ConfigPath) ? ctx.Job.LoadConfig().Schedule : null; }
                catch (ConfigException) { /* status still works with a broken config; tags are then sorted by name */ }
                WriteTable(ctx.Out, revisions, schedule, TimeZoneInfo.Local);
            }
            return Task.FromResult(0);
        }, ct));
        return command;
    }

    public static void WriteTable(TextWriter output, IReadOnlyList<Revision> revisions, Schedule? schedule, TimeZoneInfo zone)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        // Redirected output has no width: let the table be as wide as its content instead of wrapping at 80.
        if (Console.IsOutputRedirected || !ReferenceEquals(output, Console.Out)) console.Profile.Width = 240;
        var table = new Table().Border(TableBorder.HeavyHead);
        table.AddColumn($"Date ({zone.Id})");
        table.AddColumn("ID");
        table.AddColumn(new TableColumn("Size").RightAligned());
        table.AddColumn(new TableColumn("Duration").RightAligned());
        table.AddColumn("Tags");
        table.AddColumn("Trust");
        table.AddColumn("Server");
        // Only while `upgrade` has work left: which revisions are still in the original's format.
        var showFormat = revisions.Any(r => LegacyFormat.IsLegacy(r.BackendType));
        if (showFormat) table.AddColumn("Format");
        foreach (var r in revisions)
        {
            string[] cells = [
                Markup.Escape(TimeZoneInfo.ConvertTime(r.Timestamp, zone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)),
                Markup.Escape(r.Id),
                Markup.Escape(Humanize.Size(r.BytesWritten)),
                // The manual: incomplete revisions show a zero duration.
                Markup.Escape(r.Duration is { } d ? Humanize.Duration(TimeSpan.FromSeconds(d)) : "0 seconds"),
                Markup.Escape(TagDisplay.Format(r, schedule)),
                Markup.Escape(r.Trust.ToText()),
                Markup.Escape(r.Server)];
            table.AddRow(showFormat ? [.. cells, Markup.Escape(LegacyFormat.Describe(r.BackendType))] : cells);
        }
        console.Write(table);
        var total = revisions.Sum(r => r.BytesWritten);
        output.WriteLine($"{revisions.Count} revisions containing {Humanize.Size(total)} data (estimated)");
    }
}
