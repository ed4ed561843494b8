using System.CommandLine;
using Backy.Storage;
using Backy.Storage.Verify;
using Backy.Worker.Copies;

namespace Backy.Worker.Commands;

/// <summary>
/// <c>verify [-r REVISION]</c>: reads back every chunk of the revision (default: every distrusted one);
/// failing revisions are removed, clean ones become verified; then purge. Exit 1 if any was removed, kept or damaged.
/// The policy is the verifier's (<see cref="RevisionVerifier.VerifyJobAsync"/>); this is the command line.
/// </summary>
public static class VerifyCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var revision = RevisionOption.Create("The revision to verify (default: every distrusted revision)");
        var command = new Command("verify", "Verify a revision or all distrusted revisions") { revision };
        var from = new FromCopyOptions();
        from.AddTo(command);
        command.SetAction((parse, ct) => parse.GetValue(from.From) is not null
            ? FromCopyCommands.VerifyAsync(parse, globals, from, revision, ct)
            : JobCommandLine.RunAsync(parse, globals, "verify", async (ctx, token) =>
            {
                VerifyResult result;
                await using (var progress = ctx.StartProgress("verify"))
                    result = await RevisionVerifier.VerifyJobAsync(ctx.Job, parse.GetValue(revision), ctx.Logger, token, progress: progress.Sink).ConfigureAwait(false);
                return result.Failure is { } failure ? throw new BackyException(failure) : 0;
            }, ct));
        return command;
    }
}
