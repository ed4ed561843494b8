using System.CommandLine;
using Backy.Storage;
using Backy.Storage.Editing;

namespace Backy.Worker.Commands;

/// <summary>
/// <c>distrust [-r REVISION | [-f FROM] [-u UNTIL]]</c>: marks revisions distrusted, so that the
/// next backups store every block again and the next verify checks them. Default: every local revision.
/// </summary>
public static class DistrustCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var revision = RevisionOption.Create("The revision to distrust (default: every revision in the date range)");
        var from = new Option<string?>("--from", "-f")
        {
            Description = "Distrust revisions made on or after this date (ISO 8601: 2015-11-05, or 2015-11-05T10:30:00Z; UTC)",
            HelpName = "FROM",
        };
        var until = new Option<string?>("--until", "-u")
        {
            Description = "Distrust revisions made on or before this date (inclusive, ISO 8601 like --from)",
            HelpName = "UNTIL",
        };
        var command = new Command("distrust", "Distrust a revision, or all local revisions in a date range (default: all)") { revision, from, until };
        command.SetAction((parse, ct) => JobCommandLine.RunAsync(parse, globals, "distrust", (ctx, _) =>
        {
            var spec = parse.GetValue(revision);
            var (fromText, untilText) = (parse.GetValue(from), parse.GetValue(until));
            var editor = new RevisionEditor(ctx.Job, ctx.Time, ctx.Logger);
            if (spec is not null && (fromText is not null || untilText is not null))
                throw new BackyException("distrust takes either -r REVISION or a date range -f/-u, not both");
            if (spec is null)
                editor.Distrust(DateRange.Parse(fromText, untilText));
            else
                editor.Distrust(spec);
            return Task.FromResult(0);
        }, ct));
        return command;
    }
}
