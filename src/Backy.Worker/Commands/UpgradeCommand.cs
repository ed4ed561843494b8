using System.CommandLine;
using Backy.Storage;
using Backy.Storage.Legacy;

namespace Backy.Worker.Commands;

/// <summary>
/// <c>upgrade</c>: converts revisions written by the Python backy 2.x (chunked or cowfile) into our format,
/// in place, newest first. Interruptible: Ctrl-C, SIGTERM or kill -9, and the next run goes on.
/// Exit 1 (after converting everything it can) when some revision's old data is damaged.
/// </summary>
public static class UpgradeCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var command = new Command("upgrade", "Upgrade this backup (incl. its data) to the newest supported version");
        command.SetAction((parse, ct) => JobCommandLine.RunAsync(parse, globals, "upgrade", async (ctx, token) =>
        {
            UpgradeReport report;
            await using (var progress = ctx.StartProgress("upgrade"))
                report = await new JobUpgrader(ctx.Job, ctx.Logger) { Progress = progress.Sink }.RunAsync(token).ConfigureAwait(false);
            await ctx.Out.WriteLineAsync(report.Summary()).ConfigureAwait(false);
            if (!report.Success)
                throw new BackyException(
                    $"{report.Failed.Count} revision(s) could not be upgraded and were left as they were: " +
                    string.Join("; ", report.Failed.Select(f => $"{f.Id}: {f.Reason}")));
            return 0;
        }, ct));
        return command;
    }
}
