using System.CommandLine;
using Backy.Sources;
using Backy.Storage;
using Backy.Storage.Backup;
using Backy.Storage.Schedules;

namespace Backy.Worker.Commands;

/// <summary><c>backup [-f] TAGS</c>: makes a new revision from the job's configured source.</summary>
public static class BackupCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var force = new Option<bool>("--force", "-f") { Description = "Accept tags that are not in the schedule and do not start with 'manual:'" };
        var tags = new Argument<string>("TAGS") { Description = "Comma-separated tags for the new revision (one argument)" };
        var command = new Command("backup", "Create a new revision of the job") { force, tags };
        command.SetAction((parse, ct) => JobCommandLine.RunAsync(parse, globals, "backup", async (ctx, token) =>
        {
            var config = ctx.Job.LoadConfig();
            var tagSet = ParseTags(parse.GetValue(tags) ?? "", config.Schedule, parse.GetValue(force));
            var source = SourceFactory.CreateDefault().Create(config.Source, new SourceContext(ctx.Job.Path, ctx.LoggerFactory, ctx.Time));
            await new BackupEngine(ctx.Job, ctx.Logger, ctx.Time).BackupAsync(source, tagSet, token).ConfigureAwait(false);
            return 0;
        }, ct));
        return command;
    }

    /// <summary>Tags must be schedule tags or start with <c>manual:</c>, unless forced.</summary>
    public static IReadOnlyCollection<string> ParseTags(string text, Schedule? schedule, bool force)
    {
        var tags = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        if (tags.Count == 0)
            throw new BackyException("no tags given: pass a comma-separated list like 'daily' or 'manual:before-upgrade'");
        if (force) return tags;
        var bad = tags.Where(t => !t.StartsWith("manual:", StringComparison.Ordinal) && schedule?.HasTag(t) != true)
            .Order(StringComparer.Ordinal).ToList();
        if (bad.Count > 0)
            throw new BackyException($"unknown tag(s) {string.Join(", ", bad.Select(t => $"'{t}'"))}: not in the job's schedule " +
                $"({(schedule is null ? "none configured" : string.Join(", ", schedule.Intervals.Select(i => i.Tag)))}); use -f or a 'manual:' prefix");
        return tags;
    }
}
