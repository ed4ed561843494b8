using System.Diagnostics;
using Backy.Storage.Chunks;
using Backy.Tests.Storage.Support;
using CliWrap;

namespace Backy.Tests.Reliability;

/// <summary>
/// Seeded crash-consistency driver: on one job that keeps several revisions, each iteration starts a real
/// <c>backy-worker</c> backup, purge, verify, expire or tags change, SIGKILLs it after a seeded delay, and then
/// checks what must survive any crash (see <see cref="CrashChecks"/>). The kill delay is drawn from
/// [0, 1.2 × the last uninterrupted duration of that operation], so kills land across the whole run even
/// when the machine is slow.
/// </summary>
public sealed class CrashDriver(int seed, Action<string> log)
{
    public static readonly string[] Operations = ["backup", "purge", "verify", "expire", "tags"];
    const int ImageBlocks = 8;
    const int MaxRevisions = 3;

    readonly Random _rnd = new(seed);
    readonly Dictionary<string, double> _lastDurationMs = Operations.ToDictionary(o => o, _ => 1500.0);

    public sealed record Report(int Iterations, int Killed, int FinishedBeforeKill, IReadOnlyList<string> Failures,
        IReadOnlyDictionary<string, int> PerOperation);

    public async Task<Report> RunAsync(int iterations, CancellationToken ct)
    {
        using var t = new TestJob("daily: {interval: 1d, keep: 3}");
        var expected = new Dictionary<string, string>(); // revision id -> SHA-256 of the image it holds
        var failures = new List<string>();
        var perOp = Operations.ToDictionary(o => o, _ => 0);
        int killed = 0, finished = 0;

        TestImages.WriteMixed(t.ImagePath, (long)ImageBlocks * Blocks.Size, seed);
        for (var i = 0; i < 2; i++)
            await BackupUncutAsync(t, expected, ct);

        for (var i = 0; i < iterations; i++)
        {
            var op = Operations[_rnd.Next(Operations.Length)];
            perOp[op]++;
            ChangeImage(t.ImagePath);
            var imageSha = Convert.ToHexString(TestJob.Sha(t.ImagePath));
            var before = t.Job.CompleteRevisions().Select(r => r.Id).ToHashSet();
            var args = ArgumentsFor(op, before.ToList(), i);
            var delay = TimeSpan.FromMilliseconds(_rnd.NextDouble() * 1.2 * _lastDurationMs[op]);

            var wasKilled = await RunAndKillAsync(t.JobPath, args, op, delay, ct);
            if (wasKilled) killed++; else finished++;

            var problems = new List<string>();
            // A backup that completed before the kill left a complete revision of the current image.
            foreach (var r in t.Job.CompleteRevisions().Where(r => !expected.ContainsKey(r.Id)))
            {
                if (op == "backup") expected[r.Id] = imageSha;
                else problems.Add($"revision {r.Id} appeared during {op}");
            }
            await CrashChecks.AfterKillAsync(t, before, expected, mayRemove: op == "expire", _rnd, problems, ct);
            await CrashChecks.NextBackupCleansUpAsync(t, expected, imageSha, problems, ct);
            if (i % 10 == 9)
                await CrashChecks.PurgeLeavesNoGarbageAsync(t, problems, ct);
            await TrimAsync(t, expected, ct);

            var line = $"iteration {i}: {op} {string.Join(' ', args)} kill after {delay.TotalMilliseconds:F0} ms " +
                       (wasKilled ? "(killed)" : "(finished first)") + (problems.Count == 0 ? " ok" : " FAILED: " + string.Join("; ", problems));
            log(line);
            if (problems.Count > 0)
                failures.Add(line);
        }
        return new Report(iterations, killed, finished, failures, perOp);
    }

    string[] ArgumentsFor(string op, List<string> complete, int iteration)
    {
        var rev = complete.Count == 0 ? "last" : complete[_rnd.Next(complete.Count)];
        return op switch
        {
            "backup" => ["backup", "daily"],
            "verify" => ["verify", "-r", rev],
            "tags" => _rnd.Next(2) == 0 ? ["tags", "add", rev, $"manual:crash{iteration}"] : ["tags", "set", rev, "daily"],
            _ => [op],
        };
    }

    /// <summary>Rewrites one to three random blocks so every backup writes new chunks.</summary>
    void ChangeImage(string path) => ChangeImage(path, _rnd, ImageBlocks, maxBlocks: 3);

    /// <summary>Rewrites 1 to <paramref name="maxBlocks"/> random blocks of an image of <paramref name="imageBlocks"/> blocks.</summary>
    internal static void ChangeImage(string path, Random rnd, int imageBlocks, int maxBlocks)
    {
        var buf = new byte[Blocks.Size];
        using var f = new FileStream(path, FileMode.Open, FileAccess.Write);
        for (var n = rnd.Next(1, maxBlocks + 1); n > 0; n--)
        {
            rnd.NextBytes(buf);
            f.Position = (long)rnd.Next(imageBlocks) * Blocks.Size;
            f.Write(buf);
        }
    }

    async Task<bool> RunAndKillAsync(string jobDir, string[] args, string op, TimeSpan delay, CancellationToken ct)
    {
        using var kill = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var sw = Stopwatch.StartNew();
        var run = WorkerProcess.Command(jobDir, args).ExecuteAsync(kill.Token);
        if (await Task.WhenAny(run.Task, Task.Delay(delay, ct)) == run.Task)
        {
            _lastDurationMs[op] = sw.Elapsed.TotalMilliseconds;
            return false;
        }
        kill.Cancel(); // CliWrap's forceful cancellation is SIGKILL: no chance to clean up
        try { await run; return false; }
        catch (OperationCanceledException) { ct.ThrowIfCancellationRequested(); return true; }
    }

    internal static async Task BackupUncutAsync(TestJob t, Dictionary<string, string> expected, CancellationToken ct)
    {
        var sha = Convert.ToHexString(TestJob.Sha(t.ImagePath));
        var r = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily");
        if (r.ExitCode != 0) throw new InvalidOperationException("setup backup failed: " + r.StdErr);
        foreach (var rev in t.Job.CompleteRevisions().Where(x => !expected.ContainsKey(x.Id)))
            expected[rev.Id] = sha;
    }

    /// <summary>Keeps at most <see cref="MaxRevisions"/> complete revisions (uninterrupted forget) so each
    /// iteration checks a bounded number of restores.</summary>
    internal static async Task TrimAsync(TestJob t, Dictionary<string, string> expected, CancellationToken ct)
    {
        foreach (var old in t.Job.CompleteRevisions().OrderBy(r => r.Timestamp).SkipLast(MaxRevisions))
        {
            var r = await WorkerProcess.RunAsync(t.JobPath, ct, "forget", "-r", old.Id);
            if (r.ExitCode != 0) throw new InvalidOperationException("forget failed: " + r.StdErr);
            expected.Remove(old.Id);
        }
    }
}
