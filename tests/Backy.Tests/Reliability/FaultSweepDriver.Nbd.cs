using Backy.Tests.Nbd;
using Backy.Tests.Storage.Support;
using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Reliability;

/// <summary>
/// <c>nbd-server</c> in the sweep: the server runs under the fault (in its opens, reads and locks of the job's
/// files) while the real <c>nbdcopy</c> reads a seeded revision. A read either returns the revision's bytes or
/// an NBD error: nbdcopy exiting 0 with other bytes is the server returning wrong data (a false success). The job
/// is unchanged (every <c>.rev</c> byte for byte, the same chunk files), the server stops on SIGTERM, and the
/// next server without a fault serves the revision bit-identically.
/// </summary>
public sealed partial class FaultSweepDriver
{
    static readonly TimeSpan NbdCopyTimeout = TimeSpan.FromMinutes(3);

    async Task<IReadOnlyDictionary<string, int>> NbdCensusAsync(TestJob t, CancellationToken ct)
    {
        var pick = t.Job.CompleteRevisions()[0].Id;
        return await FaultInjection.ServerCensusAsync(t.JobPath, ["nbd-server", "--port", "0"], async firstLine =>
        {
            var line = await firstLine.WaitAsync(TimeSpan.FromMinutes(2), ct);
            var address = line.StartsWith("listening on ", StringComparison.Ordinal) ? line["listening on ".Length..]
                : throw new InvalidOperationException($"nbd-server census: unexpected first line '{line}'");
            await NbdCopyAsync($"{address}/{pick}", t.PathIn("served"), ct);
            File.Delete(t.PathIn("served"));
        }, ct);
    }

    async Task<CaseOutcome> RunNbdCaseAsync(TestJob t, Case c, IReadOnlyDictionary<string, string> expected, CancellationToken ct)
    {
        var complete = t.Job.CompleteRevisions().Select(r => r.Id).OrderBy(id => id, StringComparer.Ordinal).ToList();
        var pick = complete[_rnd.Next(complete.Count)];
        var before = JobSnapshot(t);
        var lost = new List<string>(); var falseOk = new List<string>(); var other = new List<string>();
        var target = t.PathIn("served");
        File.Delete(target);

        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var note = "";
        FaultInjection.Outcome run;
        await using (var server = c.Fault.Start(t.JobPath, FaultInjection.WatchedPaths(t.JobPath), ["nbd-server", "--port", "0"], line =>
                     {
                         if (line.StartsWith("listening on ", StringComparison.Ordinal)) listening.TrySetResult(line["listening on ".Length..]);
                     }, ct))
        {
            var first = await Task.WhenAny(listening.Task, server.Finished).WaitAsync(TimeSpan.FromMinutes(2), ct);
            if (first == listening.Task)
            {
                var copy = await NbdCopyAsync($"{listening.Task.Result}/{pick}", target, ct);
                note = copy is null ? " nbdcopy timed out" : $" nbdcopy exit {copy.ExitCode}";
                if (copy is null)
                    other.Add($"nbdcopy did not finish within {NbdCopyTimeout.TotalMinutes} min");
                else if (copy.ExitCode == 0 && Sha(target) != expected[pick])
                    falseOk.Add($"nbdcopy exited 0 but read {new FileInfo(target).Length} bytes that differ from revision {pick}: the server returned wrong data");
                else if (copy.ExitCode != 0 && copy.StandardError.Trim().Length == 0)
                    other.Add("nbdcopy failed without saying why");
            }
            run = await server.StopAsync(TimeSpan.FromSeconds(60));
        }
        File.Delete(target);
        if (run.ExitCode == -9) other.Add("nbd-server did not stop within 60 s of SIGTERM");
        else if (run.ExitCode == 0 && !listening.Task.IsCompleted) other.Add("nbd-server exited 0 without listening");
        var (message, unclear) = Judge(run);

        var after = JobSnapshot(t);
        foreach (var (name, content) in before)
            if (!after.TryGetValue(name, out var now)) other.Add($"nbd-server removed {name}");
            else if (now != content) other.Add($"nbd-server changed {name}");
        foreach (var name in after.Keys.Where(n => !before.ContainsKey(n))) other.Add($"nbd-server added {name}");

        var problems = new List<string>();
        await CrashChecks.AfterKillAsync(t, complete.ToHashSet(), expected, mayRemove: false, _rnd, problems, ct);
        lost.AddRange(problems);

        // The next server, without a fault, serves the revision bit-identically.
        await using (var clean = await NbdServerProcess.StartAsync(t.JobPath, ct))
        {
            var copy = await NbdCopyAsync(clean.Uri(pick), target, ct);
            if (copy is not { ExitCode: 0 })
                other.Add($"nbdcopy from the server without fault: {(copy is null ? "timed out" : $"exit {copy.ExitCode}: {copy.StandardError.Trim()}")}");
            else if (Sha(target) != expected[pick])
                lost.Add($"the server without fault served other bytes for revision {pick}");
            if (await clean.StopAsync() != 0) other.Add($"nbd-server without fault: {clean.StdErr.Trim()}");
        }
        File.Delete(target);
        return new CaseOutcome(run.ExitCode, run.Injected > 0, IsRuntimeAbort(run) && run.ExitCode != -9, message, unclear, lost, falseOk, other, note, run.FirstInjected);
    }

    /// <summary>nbdcopy of one export to a file; null when it did not finish in <see cref="NbdCopyTimeout"/>.</summary>
    static async Task<BufferedCommandResult?> NbdCopyAsync(string uri, string target, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(NbdCopyTimeout);
        try
        {
            return await CliWrap.Cli.Wrap("nbdcopy").WithArguments([uri, target]).WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Every <c>.rev</c> by name with its text, and every chunk file by name (chunk files are immutable).</summary>
    static Dictionary<string, string> JobSnapshot(TestJob t)
    {
        var snapshot = Directory.EnumerateFiles(t.JobPath, "*.rev").ToDictionary(f => Path.GetFileName(f), File.ReadAllText);
        foreach (var chunk in t.ChunkFiles().Keys) snapshot[Path.GetRelativePath(t.JobPath, chunk)] = "";
        return snapshot;
    }

    static string Sha(string path) => File.Exists(path) ? Convert.ToHexString(TestJob.Sha(path)) : "(no file)";
}
