using System.CommandLine;
using Backy.Storage;
using Backy.Storage.Jobs;
using Backy.Storage.Purge;
using Backy.Storage.Revisions;
using Backy.Storage.Verify;
using Backy.Worker.Copies;
using Backy.Worker.Logging;

namespace Backy.Worker.Commands;

/// <summary>
/// <c>verify [-r REVISION]</c>: reads back every chunk of the revision (default: every distrusted one);
/// failing revisions are removed, clean ones become verified; then purge. Exit 1 if any was removed.
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
            ctx.Job.EnsureExists();
            VerifyResult result;
            IReadOnlyList<DamagedRevision> damaged;
            using (var store = RevisionStore.Open(ctx.Job, "verify", ctx.Logger))
            {
                var scan = ctx.Job.ScanRevisions();
                var complete = scan.Revisions.Where(r => r.IsComplete).ToList();
                var spec = parse.GetValue(revision);
                // Without -r, a damaged .rev is a finding too; it is kept (the operator decides), not removed.
                damaged = spec is null ? scan.Damaged : [];
                var targets = spec is null
                    ? complete.Where(r => r.IsLocal && r.Trust == Trust.Distrusted).ToList()
                    : [LocalOnly(ctx.Job.Resolve(spec, scan.Revisions))];
                if (targets.Count == 0)
                {
                    ctx.Logger.NothingToVerify();
                    return damaged.Count == 0 ? 0 : throw DamagedFound(damaged);
                }
                result = await new RevisionVerifier(store, ctx.Logger).VerifyAsync(targets, token).ConfigureAwait(false);
            }
            ctx.Logger.VerifySummary(result.Verified.Count, result.Removed.Count);
            await new GarbageCollector(ctx.Job, ctx.Logger).PurgeAsync(token).ConfigureAwait(false);
            if (result.Removed.Count > 0)
                throw new BackyException($"{result.Removed.Count} revision(s) failed verification and were removed: {string.Join("; ", result.Problems)}" +
                    (result.Distrusted.Count > 0 ? $"; distrusted {string.Join(", ", result.Distrusted)}, which use the bad chunks (the next backup writes them again)" : ""));
            if (result.Kept.Count > 0)
                throw new BackyException($"{result.Kept.Count} revision(s) could not be verified and were kept: {string.Join("; ", result.Problems)}");
            return damaged.Count == 0 ? 0 : throw DamagedFound(damaged);
        }, ct));
        return command;
    }

    private static BackyException DamagedFound(IReadOnlyList<DamagedRevision> damaged) => new(
        $"{damaged.Count} revision file(s) damaged and kept (repair, or remove with forget -r ID): {string.Join("; ", damaged.Select(d => d.Reason))}");

    /// <summary>A peer revision's data is on the peer: verifying it here would report every chunk missing.</summary>
    private static Revision LocalOnly(Revision revision) => revision.IsLocal
        ? revision
        : throw new BackyException($"revision {revision.Id} is stored on server '{revision.Server}', not here (verify it there)");
}
