using System.CommandLine;
using Backy.Storage;
using Backy.Storage.Copies;
using Backy.Storage.IO;
using Backy.Storage.Revisions;
using Backy.Worker.Commands;
using YamlDotNet.RepresentationModel;

namespace Backy.Worker.Copies;

/// <summary>The <c>--from</c> halves of restore, status and verify (see <see cref="FromCopyOptions"/>).</summary>
public static class FromCopyCommands
{
    public static Task<int> RestoreAsync(ParseResult parse, GlobalOptions globals, FromCopyOptions from, Option<string?> revision, Argument<string> target, CancellationToken cancellationToken) =>
        FromCopyOptions.RunAsync(parse, globals, from, "restore", async (copy, logger, _, token) =>
        {
            var rev = await ResolveAsync(copy, parse.GetValue(revision), token).ConfigureAwait(false);
            var restore = new CopyRestore(copy, logger);
            var path = parse.GetValue(target)!;
            if (path == "-")
            {
                DurableFile.TryGrowPipe(1);
                await using var stdout = Console.OpenStandardOutput();
                await restore.RestoreToStreamAsync(rev, stdout, token).ConfigureAwait(false);
            }
            else
                await restore.RestoreToFileAsync(rev, path, token).ConfigureAwait(false);
            return 0;
        }, cancellationToken);

    public static Task<int> StatusAsync(ParseResult parse, GlobalOptions globals, FromCopyOptions from, Option<bool> yaml, CancellationToken cancellationToken) =>
        FromCopyOptions.RunAsync(parse, globals, from, "status", async (copy, _, output, token) =>
        {
            var (revisions, damaged) = await copy.LoadRevisionsAsync(token).ConfigureAwait(false);
            if (parse.GetValue(yaml))
                output.Write(YamlTree.Serialize(new YamlSequenceNode(revisions.Select(r => (YamlNode)RevisionFile.ToYaml(r)))));
            else
                StatusCommand.WriteTable(output, revisions, null, TimeZoneInfo.Local);
            foreach (var d in damaged) await parse.InvocationConfiguration.Error.WriteLineAsync($"warning: {d}").ConfigureAwait(false);
            return 0;
        }, cancellationToken);

    public static Task<int> VerifyAsync(ParseResult parse, GlobalOptions globals, FromCopyOptions from, Option<string?> revision, CancellationToken cancellationToken) =>
        FromCopyOptions.RunAsync(parse, globals, from, "verify", async (copy, logger, output, token) =>
        {
            var spec = parse.GetValue(revision);
            var (revisions, damaged) = await copy.LoadRevisionsAsync(token).ConfigureAwait(false);
            IReadOnlyList<Revision> targets = spec is null ? revisions : [RevisionSpec.Resolve(spec, revisions.Where(r => r.IsComplete).ToList())];
            var problems = (await new CopyVerifier(copy, logger).VerifyAsync(targets, token).ConfigureAwait(false)).ToList();
            if (spec is null) problems.AddRange(damaged);
            if (problems.Count > 0)
                throw new BackyException($"{problems.Count} problem(s) in {copy.Url}: {string.Join("; ", problems)}");
            await output.WriteLineAsync($"{targets.Count} revision(s) in {copy.Url} verified").ConfigureAwait(false);
            return 0;
        }, cancellationToken);

    private static async Task<Revision> ResolveAsync(CopyRepository copy, string? spec, CancellationToken cancellationToken)
    {
        var (revisions, _) = await copy.LoadRevisionsAsync(cancellationToken).ConfigureAwait(false);
        return RevisionSpec.Resolve(spec, revisions.Where(r => r.IsComplete).ToList());
    }
}
