using Backy.Storage;
using Backy.Storage.Jobs;
using Backy.Storage.Legacy;
using Backy.Storage.Revisions;
using Backy.Tests.Legacy;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Reliability;

/// <summary>
/// <c>upgrade</c> in the sweep: each case runs on a fresh copy of one legacy job directory (a cowfile revision and
/// three chunked ones, as the Python backy wrote them, <see cref="LegacyJobBuilder"/>). After any failure every
/// revision, legacy or converted, still holds its image; exit 0 means every revision is in our format; and the
/// next upgrade without a fault converts the rest, leaves no old chunk file or parked file, and every revision
/// still holds its image.
/// </summary>
public sealed partial class FaultSweepDriver
{
    sealed record LegacyTemplate(string Path, IReadOnlyDictionary<string, byte[]> Images);

    LegacyTemplate? _legacy;

    async Task<LegacyTemplate> LegacyAsync(TestJob t, CancellationToken ct)
    {
        if (_legacy is not null) return _legacy;
        const int block = LegacyJobBuilder.Block;
        var builder = new LegacyJobBuilder(t.PathIn("legacy-template"));
        var first = LegacyJobBuilder.MakeImage(seed + 21, 2L * block + 4097);
        builder.AddCowfile(LegacyJobBuilder.MakeImage(seed + 20, block + 1), DateTimeOffset.UnixEpoch.AddDays(1), ["daily"]);
        builder.AddChunked(first, DateTimeOffset.UnixEpoch.AddDays(2), ["daily"]);
        var second = LegacyJobBuilder.MakeImage(seed + 22, 3L * block, first, changedBlocks: 2);
        second.AsSpan(2 * block, block).Clear();
        builder.AddChunked(second, DateTimeOffset.UnixEpoch.AddDays(3), ["daily", "weekly"]);
        builder.AddChunked(LegacyJobBuilder.MakeImage(seed + 23, 3L * block + 1, second), DateTimeOffset.UnixEpoch.AddDays(4), ["daily"]);
        await builder.FinishAsync(ct);
        return _legacy = new LegacyTemplate(builder.Path, builder.Images);
    }

    async Task<IReadOnlyDictionary<string, int>> UpgradeCensusAsync(TestJob t, CancellationToken ct)
    {
        var legacy = await LegacyAsync(t, ct);
        var dir = FreshLegacyCopy(t, legacy);
        try { return await FaultInjection.CensusAsync(dir, ["upgrade"], ct); }
        finally { Directory.Delete(dir, recursive: true); }
    }

    static string FreshLegacyCopy(TestJob t, LegacyTemplate legacy)
    {
        var dir = t.PathIn("upgrade-job");
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        CopyDirectory(legacy.Path, dir);
        return dir;
    }

    async Task<CaseOutcome> RunUpgradeCaseAsync(TestJob t, Case c, CancellationToken ct)
    {
        var legacy = await LegacyAsync(t, ct);
        var dir = FreshLegacyCopy(t, legacy);
        var lost = new List<string>(); var falseOk = new List<string>(); var other = new List<string>();
        try
        {
            var run = await c.Fault.RunAsync(dir, FaultInjection.WatchedPaths(dir), ["upgrade"], ct);
            var (message, unclear) = Judge(run);

            await CheckLegacyJobAsync(dir, legacy, "after the faulted upgrade", lost, ct);
            if (run.ExitCode == 0 && NotConverted(dir) is { Count: > 0 } left)
                falseOk.Add($"upgrade exited 0 but {left.Count} revision(s) are not in our format: {string.Join(", ", left)}");

            var again = await WorkerProcess.RunAsync(dir, ct, "upgrade");
            if (again.ExitCode != 0) other.Add($"upgrade without fault exit {again.ExitCode}: {LastErrorLine(again.StdErr) ?? FirstLine(again.StdErr)}");
            else
            {
                if (NotConverted(dir) is { Count: > 0 } still)
                    other.Add($"upgrade without fault exited 0 but left {string.Join(", ", still)} unconverted");
                var leftovers = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
                    .Select(f => Path.GetRelativePath(dir, f))
                    .Where(f => f.EndsWith(".chunk.lzo", StringComparison.Ordinal) || f.EndsWith(LegacyFormat.ParkedSuffix, StringComparison.Ordinal)
                                || f.EndsWith(LegacyFormat.StagedMapSuffix, StringComparison.Ordinal))
                    .ToList();
                if (leftovers.Count > 0)
                    other.Add($"upgrade without fault left {leftovers.Count} old or parked file(s), e.g. {leftovers[0]}");
            }
            await CheckLegacyJobAsync(dir, legacy, "after the upgrade without fault", lost, ct);
            return new CaseOutcome(run.ExitCode, run.Injected > 0, IsRuntimeAbort(run), message, unclear, lost, falseOk, other, FirstInjected: run.FirstInjected);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The revisions not in our format (yet).</summary>
    static List<string> NotConverted(string dir) =>
        new JobDirectory(dir).LoadRevisions().Where(r => r.BackendType != Revision.OurBackendType).Select(r => r.Id).ToList();

    /// <summary>
    /// Every revision of the legacy job, in whatever format it is now, holds its image (read in process through
    /// the one read path); one of them, drawn by the seed, also through the real <c>restore</c>.
    /// </summary>
    async Task CheckLegacyJobAsync(string dir, LegacyTemplate legacy, string when, List<string> lost, CancellationToken ct)
    {
        var job = new JobDirectory(dir);
        foreach (var (id, image) in legacy.Images)
        {
            try
            {
                if (!RevisionImageReader.Read(job, id).AsSpan().SequenceEqual(image))
                    lost.Add($"{when}: revision {id} ({Format(job, id)}) does not hold its image");
            }
            catch (Exception e) when (e is BackyException or IOException)
            {
                lost.Add($"{when}: revision {id} cannot be read: {e.Message}");
            }
        }
        var pick = legacy.Images.Keys.Order(StringComparer.Ordinal).ElementAt(_rnd.Next(legacy.Images.Count));
        var (exit, stdout, stderr) = await WorkerProcess.RunBinaryAsync(dir, ct, "restore", "-r", pick, "-");
        if (exit != 0) lost.Add($"{when}: restore {pick} exit {exit}: {LastErrorLine(stderr) ?? FirstLine(stderr)}");
        else if (!stdout.AsSpan().SequenceEqual(legacy.Images[pick])) lost.Add($"{when}: restore {pick} differs from its image");
    }

    static string Format(JobDirectory job, string id)
    {
        try { return job.LoadRevision(id).BackendType ?? "old cowfile"; }
        catch (Exception e) when (e is BackyException or IOException) { return "unreadable .rev"; }
    }
}
