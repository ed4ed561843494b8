using System.CommandLine;
using Backy.Storage.Editing;

namespace Backy.Worker.Commands;

/// <summary><c>forget -r REVISION</c>: removes a revision; its chunks go with the next purge.</summary>
public static class ForgetCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var revision = RevisionOption.Create("The revision to remove");
        revision.Required = true;
        var command = new Command("forget", "Remove a revision (unreferenced chunks are removed by the next purge)") { revision };
        command.SetAction((parse, ct) => JobCommandLine.RunAsync(parse, globals, "forget", (ctx, _) =>
        {
            new RevisionEditor(ctx.Job, ctx.Time, ctx.Logger).Forget(parse.GetValue(revision)!);
            return Task.FromResult(0);
        }, ct));
        return command;
    }
}
