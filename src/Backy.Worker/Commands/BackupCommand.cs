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
        var force = ForceOption.Create();
        var tags = new Argument<string>("TAGS") { Description = "Comma-separated tags for the new revision (one argument)" };
        var command = new Command("backup", "Create a new revision of the job") { force, tags };
        command.SetAction((parse, ct) => JobCommandLine.RunAsync(parse, globals, "backup", async (ctx, token) =>
        {
            var config = ctx.Job.LoadConfig();
            var tagSet = ParseTags(parse.GetValue(tags) ?? "", config.Schedule, parse.GetValue(force));
            var source = SourceFactory.CreateDefault().Create(config.Source, new SourceContext(ctx.Job.Path, ctx.LoggerFactory, ctx.Time));
            // A Ceph source starts connecting as it is made, beside the engine's start-up; this closes a connection
            // that the backup never took (it failed first).
            await using var connected = source as IAsyncDisposable;
            var settings = BackupSettings.Default with { Compression = config.Compression };
            await using var progress = ctx.StartProgress("backup");
            await new BackupEngine(ctx.Job, ctx.Logger, ctx.Time, settings) { Progress = progress.Sink }.BackupAsync(source, tagSet, token).ConfigureAwait(false);
            return 0;
        }, ct));
        return command;
    }

    /// <summary>Tags must be schedule tags or start with <c>manual:</c>, unless forced.</summary>
    public static IReadOnlyCollection<string> ParseTags(string text, Schedule? schedule, bool force)
    {
        var tags = TagSet.Parse(text);
        if (tags.Count == 0)
            throw new BackyException("no tags given: pass a comma-separated list like 'daily' or 'manual:before-upgrade'");
        TagValidation.Validate(schedule ?? new Schedule([]), tags, force);
        return tags;
    }
}
