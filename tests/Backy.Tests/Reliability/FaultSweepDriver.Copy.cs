using System.Text;
using Backy.Tests.Storage.Support;
using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Reliability;

/// <summary>
/// Where the sweep's <c>copy</c> cases copy to: a real radosgw (the Ceph test <c>Copies.CopyFaultSweepTests</c>
/// starts it). Each case copies to its own prefix, so every case copies every revision.
/// </summary>
/// <param name="ConfigYaml">The job config's <c>copies:</c> section for a prefix (one target).</param>
/// <param name="Url">The <c>--from</c> URL of the job's copy under a prefix.</param>
/// <param name="Environment">What a stand-alone <c>--from</c> command needs (AWS_* credentials, endpoint).</param>
/// <param name="Keys">The object keys of the job's copy under a prefix, relative to the job's prefix.</param>
public sealed record FaultSweepCopyTarget(Func<string, string> ConfigYaml, Func<string, string> Url,
    IReadOnlyDictionary<string, string?> Environment, Func<string, CancellationToken, Task<IReadOnlyList<string>>> Keys);

/// <summary>
/// <c>copy</c> in the sweep: the local job's files fail (opens, reads) or the network does (connect, send,
/// receive: reset or timed out). Whatever a failed copy leaves visible on the copy verifies (no revision looks
/// complete that is not); exit 0 means every local revision is on the copy and restores from it; the local job
/// keeps every revision; and the rerun without a fault completes the copy (nothing pending), which then verifies
/// and restores bit-identically.
/// </summary>
public sealed partial class FaultSweepDriver
{
    string? _baseConfig;

    FaultSweepCopyTarget Copy => copy ?? throw new InvalidOperationException("copy cases need a FaultSweepCopyTarget");

    void ConfigureCopy(TestJob t, string prefix)
    {
        var config = Path.Combine(t.JobPath, "config");
        _baseConfig ??= File.ReadAllText(config);
        File.WriteAllText(config, _baseConfig + Copy.ConfigYaml(prefix));
    }

    async Task<IReadOnlyDictionary<string, int>> CopyCensusAsync(TestJob t, CancellationToken ct)
    {
        ConfigureCopy(t, "census/");
        return await FaultInjection.CensusAsync(t.JobPath, ["copy"], ct);
    }

    async Task<CaseOutcome> RunCopyCaseAsync(TestJob t, Case c, int index, IReadOnlyDictionary<string, string> expected, CancellationToken ct)
    {
        var prefix = $"case{index}/";
        ConfigureCopy(t, prefix);
        var url = Copy.Url(prefix);
        var complete = t.Job.CompleteRevisions().Select(r => r.Id).OrderBy(id => id, StringComparer.Ordinal).ToList();
        var pick = complete[_rnd.Next(complete.Count)];
        var lost = new List<string>(); var falseOk = new List<string>(); var other = new List<string>();

        var run = await c.Fault.RunAsync(t.JobPath, FaultInjection.WatchedPaths(t.JobPath), ["copy"], ct);
        var (message, unclear) = Judge(run);

        var visible = (await Copy.Keys(prefix, ct)).Count(k => k.EndsWith(".rev", StringComparison.Ordinal));
        if (visible > 0)
        {
            var verify = await FromAsync(ct, "verify", "--from", url);
            if (verify.ExitCode != 0)
                lost.Add($"{visible} revision(s) visible on the copy after the faulted copy, but verify --from exit {verify.ExitCode}: {LastErrorLine(verify.StdErr) ?? FirstLine(verify.StdErr)}");
        }
        if (run.ExitCode == 0)
        {
            if (visible != complete.Count) falseOk.Add($"copy exited 0 but the copy shows {visible} of {complete.Count} revisions");
            else if (await RestoreFromAsync(url, pick, ct) is { } wrong && wrong != expected[pick])
                falseOk.Add($"copy exited 0 but revision {pick} restored from the copy differs ({wrong})");
        }

        var problems = new List<string>();
        await CrashChecks.AfterKillAsync(t, complete.ToHashSet(), expected, mayRemove: false, _rnd, problems, ct);
        lost.AddRange(problems);

        var again = await WorkerProcess.RunAsync(t.JobPath, ct, "copy");
        if (again.ExitCode != 0)
            other.Add($"copy without fault exit {again.ExitCode}: {LastErrorLine(again.StdErr) ?? FirstLine(again.StdErr)}");
        else
        {
            var keys = await Copy.Keys(prefix, ct);
            var revisions = keys.Count(k => k.EndsWith(".rev", StringComparison.Ordinal));
            if (revisions != complete.Count) other.Add($"copy without fault exited 0 but the copy shows {revisions} of {complete.Count} revisions");
            if (keys.Any(k => k.StartsWith("pending/", StringComparison.Ordinal))) other.Add("copy without fault left a pending chunk map");
            var verify = await FromAsync(ct, "verify", "--from", url);
            if (verify.ExitCode != 0) lost.Add($"verify --from after the copy without fault exit {verify.ExitCode}: {LastErrorLine(verify.StdErr) ?? FirstLine(verify.StdErr)}");
            if (await RestoreFromAsync(url, pick, ct) is { } sha && sha != expected[pick])
                lost.Add($"revision {pick} restored from the copy differs from its image ({sha})");
        }
        return new CaseOutcome(run.ExitCode, run.Injected > 0, IsRuntimeAbort(run), message, unclear, lost, falseOk, other, FirstInjected: run.FirstInjected);
    }

    /// <summary>SHA-256 of <c>restore --from URL -r ID -</c>, or the failure in words.</summary>
    async Task<string?> RestoreFromAsync(string url, string id, CancellationToken ct)
    {
        var stdout = new MemoryStream();
        var stderr = new StringBuilder();
        var r = await CliWrap.Cli.Wrap(WorkerProcess.Path).WithArguments(["restore", "--from", url, "-r", id, "-"])
            .WithEnvironmentVariables(Copy.Environment).WithWorkingDirectory(Path.GetTempPath())
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.ToStream(stdout)).WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .ExecuteAsync(ct);
        return r.ExitCode == 0
            ? Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(stdout.ToArray()))
            : $"restore --from exit {r.ExitCode}: {LastErrorLine(stderr.ToString()) ?? FirstLine(stderr.ToString())}";
    }

    async Task<WorkerProcess.Result> FromAsync(CancellationToken ct, params string[] args)
    {
        var r = await CliWrap.Cli.Wrap(WorkerProcess.Path).WithArguments(args).WithEnvironmentVariables(Copy.Environment)
            .WithWorkingDirectory(Path.GetTempPath()).WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(Encoding.UTF8, ct);
        return new WorkerProcess.Result(r.ExitCode, r.StandardOutput, r.StandardError);
    }
}
