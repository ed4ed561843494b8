using System.CommandLine;
using Backy.Storage;
using Backy.Storage.IO;
using Backy.Storage.Restore;
using Backy.Storage.Revisions;

namespace Backy.Worker.Commands;

/// <summary><c>restore [-r REVISION] TARGET</c>: writes a revision's image to a file, a device or stdout (<c>-</c>).</summary>
public static class RestoreCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var revision = RevisionOption.Create("The revision to restore (default: the newest)");
        var target = new Argument<string>("TARGET") { Description = "A file or block device, or - for stdout" };
        var command = new Command("restore", "Copy a backup image out to a file, a device or stdout") { revision, target };
        command.SetAction((parse, ct) => JobCommandLine.RunAsync(parse, globals, "restore", async (ctx, token) =>
        {
            ctx.Job.EnsureExists();
            var rev = ctx.Job.Resolve(parse.GetValue(revision), ctx.Job.LoadRevisions());
            if (!rev.IsLocal)
                throw new BackyException($"revision {rev.Id} is stored on server '{rev.Server}', not here");
            var engine = new RestoreEngine(ctx.Job, ctx.Logger);
            var path = parse.GetValue(target)!;
            if (path == "-")
            {
                DurableFile.TryGrowPipe(1);
                await using var stdout = Console.OpenStandardOutput();
                await engine.RestoreToStreamAsync(rev, stdout, token).ConfigureAwait(false);
            }
            else
                await engine.RestoreToFileAsync(rev, path, token).ConfigureAwait(false);
            return 0;
        }, ct));
        return command;
    }
}
