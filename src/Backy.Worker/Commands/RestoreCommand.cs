using System.CommandLine;
using Backy.Sources.Ceph;
using Backy.Storage;
using Backy.Storage.Restore;
using Backy.Storage.Revisions;
using Backy.Worker.Copies;

namespace Backy.Worker.Commands;

/// <summary>
/// <c>restore [-r REVISION] [--changed-only] TARGET</c>: writes a revision's image to a file, a device, stdout
/// (<c>-</c>) or an RBD image (<c>rbd:POOL/IMAGE</c>, through librbd); <c>--changed-only</c> reads the target and
/// writes only the blocks that differ.
/// </summary>
public static class RestoreCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var revision = RevisionOption.Create("The revision to restore (default: the newest)");
        var target = new Argument<string>("TARGET") { Description = "A file or block device, rbd:POOL/IMAGE, or - for stdout" };
        var changedOnly = new Option<bool>("--changed-only")
        {
            Description = "Read the target (a file, block device or rbd:POOL/IMAGE) and write only the blocks that differ from the revision",
        };
        var command = new Command("restore", "Copy a backup image out to a file, a device, an RBD image or stdout") { revision, changedOnly, target };
        var from = new FromCopyOptions();
        from.AddTo(command);
        command.SetAction((parse, ct) => parse.GetValue(from.From) is not null
            ? FromCopyCommands.RestoreAsync(parse, globals, from, revision, target, ct)
            : JobCommandLine.RunAsync(parse, globals, "restore", async (ctx, token) =>
        {
            ctx.Job.EnsureExists();
            var rev = ctx.Job.Resolve(parse.GetValue(revision), ctx.Job.LoadRevisions());
            if (!rev.IsLocal)
                throw new BackyException($"revision {rev.Id} is stored on server '{rev.Server}', not here");
            await using var progress = ctx.StartProgress("restore");
            var engine = new RestoreEngine(ctx.Job, ctx.Logger) { Progress = progress.Sink };
            var path = parse.GetValue(target)!;
            var changed = parse.GetValue(changedOnly);
            if (RbdTargetSpec.IsRbd(path))
            {
                await using var rbd = new RbdRestoreTarget(CephClientOptions.FromEnvironment(), RbdTargetSpec.Parse(path));
                await RestoreIntoAsync(engine, rev, rbd, changed, token).ConfigureAwait(false);
            }
            else if (changed)
            {
                if (path == "-")
                    throw new BackyException("--changed-only needs a target it can read back (a file, a block device or rbd:POOL/IMAGE), not stdout");
                await using var file = FileRestoreTarget.Open(path);
                await RestoreIntoAsync(engine, rev, file, changed, token).ConfigureAwait(false);
            }
            else if (path == "-")
                await engine.RestoreToStdoutAsync(rev, token).ConfigureAwait(false); // write(2): a closed pipe is exit 1
            else
                await engine.RestoreToFileAsync(rev, path, token).ConfigureAwait(false);
            return 0;
        }, ct));
        return command;
    }

    private static async Task RestoreIntoAsync(RestoreEngine engine, Revision revision, IRestoreTarget target, bool changedOnly, CancellationToken token)
    {
        if (changedOnly)
        {
            var result = await engine.RestoreChangedAsync(revision, target, token).ConfigureAwait(false);
            Console.WriteLine($"{target.Name}: {result.WrittenBlocks} of {result.Blocks} blocks differed and were written; the target now equals revision {revision.Id}");
        }
        else
            await engine.RestoreToTargetAsync(revision, target, token).ConfigureAwait(false);
    }
}
