using System.CommandLine;
using Backy.Storage.Purge;

namespace Backy.Worker.Commands;

/// <summary><c>purge</c>: deletes chunks no revision refers to (waits for running backups and restores).</summary>
public static class PurgeCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var command = new Command("purge", "Remove all chunks which are no longer referred to by a revision");
        command.SetAction((parse, ct) => JobCommandLine.RunAsync(parse, globals, "purge", async (ctx, token) =>
        {
            await new GarbageCollector(ctx.Job, ctx.Logger).PurgeAsync(token).ConfigureAwait(false);
            return 0;
        }, ct));
        return command;
    }
}
