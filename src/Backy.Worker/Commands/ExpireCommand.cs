using System.CommandLine;
using Backy.Storage.Editing;

namespace Backy.Worker.Commands;

/// <summary><c>expire</c>: removes tags the schedule no longer needs (never <c>manual:</c> ones)
/// and removes revisions left without tags.</summary>
public static class ExpireCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var command = new Command("expire", "Remove expired tags according to the schedule, and revisions without tags");
        command.SetAction((parse, ct) => JobCommandLine.RunAsync(parse, globals, "expire", (ctx, _) =>
        {
            new RevisionEditor(ctx.Job, ctx.Time, ctx.Logger).Expire();
            return Task.FromResult(0);
        }, ct));
        return command;
    }
}
