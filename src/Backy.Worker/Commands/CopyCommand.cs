using System.CommandLine;
using Backy.Copies.S3;
using Backy.Storage;
using Backy.Storage.Copies;
using Backy.Worker.Logging;

namespace Backy.Worker.Commands;

/// <summary>
/// <c>copy [NAME]</c>: copies every complete local revision that the job's copy target NAME (default: each of the
/// job's <c>copies:</c>) lacks. Records each attempt in <c>copies/NAME.status</c> for the daemon. Exit 1 when a
/// target failed (the others are still copied).
/// </summary>
public static class CopyCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var name = new Argument<string?>("NAME") { Description = "The copy target (default: every target of the job's config)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("copy", "Copy the job's revisions to its off-site copy targets (copies: in the job config)") { name };
        command.SetAction((parse, ct) => JobCommandLine.RunAsync(parse, globals, "copy", async (ctx, token) =>
        {
            ctx.Job.EnsureExists();
            var all = File.Exists(ctx.Job.ConfigPath) ? JobCopies.Load(ctx.Job.ConfigPath) : new Dictionary<string, CopyTarget>();
            var wanted = parse.GetValue(name);
            IReadOnlyList<CopyTarget> targets = wanted is null
                ? all.Values.OrderBy(t => t.Name, StringComparer.Ordinal).ToList()
                : [all.TryGetValue(wanted, out var t) ? t : throw new BackyException(
                    $"job '{ctx.Job.Name}' has no copy target '{wanted}' (configured: {(all.Count == 0 ? "none" : string.Join(", ", all.Keys.Order(StringComparer.Ordinal)))})")];
            if (targets.Count == 0)
                throw new BackyException($"job '{ctx.Job.Name}' has no copy targets (copies: in {ctx.Job.ConfigPath})");
            var failures = new List<string>();
            foreach (var target in targets)
            {
                var started = ctx.Time.GetUtcNow();
                var url = target.UrlOf(ctx.Job.Name);
                var previous = CopyStatusFile.TryRead(ctx.Job.Path, target.Name);
                try
                {
                    using var store = (S3ObjectStore)S3StoreFactory.Instance.Open(target);
                    var repository = new CopyRepository(store, target.JobPrefix(ctx.Job.Name), CopyCipher.FromKeyFile(target.EncryptionKeyFile));
                    CopyResult result;
                    await using (var progress = ctx.StartProgress("copy " + target.Name))
                        result = await new CopyEngine(ctx.Job, target, repository, ctx.Logger, ctx.Time) { Progress = progress.Sink }.CopyAsync(token).ConfigureAwait(false);
                    new CopyStatusFile(started, started, null, url) { CopiedThrough = result.CopiedThrough ?? previous?.CopiedThrough }.Write(ctx.Job.Path, target.Name);
                    await ctx.Out.WriteLineAsync($"{target.Name}: {result.Revisions} revision(s), {result.Chunks} chunk(s) ({Humanize.Size(result.Bytes)}) copied to {url}; {result.RevisionsInCopy} in the copy; {result.Expired} expired, {result.Purged} unreferenced chunk object(s) purged").ConfigureAwait(false);
                }
                catch (Exception e) when (e is BackyException or IOException or UnauthorizedAccessException)
                {
                    // A file-system error nobody named reads "cannot access 'path': reason", as at the command's boundary.
                    var reason = e is BackyException ? e.Message : Storage.IO.IoErrors.Describe(e);
                    CopyStatusFile.Failed(previous, started, reason, url).Write(ctx.Job.Path, target.Name);
                    ctx.Logger.CopyFailed(target.Name, reason);
                    failures.Add($"{target.Name}: {reason}");
                }
            }
            return failures.Count == 0 ? 0 : throw new BackyException($"copy failed for {failures.Count} of {targets.Count} target(s): {string.Join("; ", failures)}");
        }, ct));
        return command;
    }
}
