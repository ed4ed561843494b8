using Backy.Storage.Chunks;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Reliability;

/// <summary>
/// Seeded interleavings of real <c>backy-worker</c> processes on one job: each round starts 3 to 6 commands drawn
/// from backup, restore, verify, purge, tags and expire (repeats allowed) at seeded offsets within 400 ms, so they
/// overlap in a different order every round, lets them all finish, then checks: each command succeeded, or was
/// refused with the lock message, or (restore, verify, tags) named a revision that a concurrent expire removed;
/// a restore that succeeded is bit-identical; every complete revision still holds its image with no chunk missing
/// (<see cref="CrashChecks"/>, one through the real restore + verify); no incomplete revision is left.
/// </summary>
public sealed class InterleavingDriver(int seed, Action<string> log)
{
    public static readonly string[] Operations = ["backup", "restore", "verify", "purge", "tags", "expire"];
    const int ImageBlocks = 4;
    const string LockRefusal = "another backup or revision change is running";

    readonly Random _rnd = new(seed);

    /// <summary>Outcomes per operation: "ok", "locked" (refused by the lock), "gone" (its revision was expired meanwhile).</summary>
    public sealed record Report(int Rounds, int Commands, IReadOnlyList<string> Failures, IReadOnlyDictionary<string, int> Outcomes);

    sealed record Launch(string Op, string[] Args, TimeSpan Delay, string? Revision, string? Target);

    public async Task<Report> RunAsync(int rounds, CancellationToken ct)
    {
        using var t = new TestJob("daily: {interval: 1d, keep: 3}");
        var expected = new Dictionary<string, string>(); // revision id -> SHA-256 of the image it holds
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var failures = new List<string>();
        var commands = 0;
        TestImages.WriteMixed(t.ImagePath, (long)ImageBlocks * Blocks.Size, seed);
        for (var i = 0; i < 2; i++)
            await CrashDriver.BackupUncutAsync(t, expected, ct);

        for (var round = 0; round < rounds; round++)
        {
            CrashDriver.ChangeImage(t.ImagePath, _rnd, ImageBlocks, maxBlocks: 2);
            var imageSha = Convert.ToHexString(TestJob.Sha(t.ImagePath));
            var before = t.Job.CompleteRevisions().Select(r => r.Id).ToList();
            var launches = Enumerable.Range(0, _rnd.Next(3, 7)).Select(i => Plan(t, before, round, i)).ToList();
            commands += launches.Count;

            var results = await Task.WhenAll(launches.Select(async l =>
            {
                await Task.Delay(l.Delay, ct);
                return await WorkerProcess.RunAsync(t.JobPath, ct, l.Args);
            }));

            var problems = new List<string>();
            var now = t.Job.LoadRevisions();
            var present = now.Select(r => r.Id).ToHashSet();
            var backedUp = false;
            var expired = false;
            for (var i = 0; i < launches.Count; i++)
            {
                var (l, r) = (launches[i], results[i]);
                var outcome = Classify(l, r, present, expected, problems);
                outcomes[$"{l.Op} {outcome}"] = outcomes.GetValueOrDefault($"{l.Op} {outcome}") + 1;
                backedUp |= l.Op == "backup" && outcome == "ok";
                expired |= l.Op == "expire" && outcome == "ok";
                if (l.Target is not null) File.Delete(l.Target);
            }
            problems.AddRange(now.Where(r => !r.IsComplete).Select(r => $"incomplete revision {r.Id} left"));
            foreach (var r in now.Where(r => r.IsComplete && !expected.ContainsKey(r.Id)))
            {
                if (backedUp) expected[r.Id] = imageSha;
                else problems.Add($"revision {r.Id} appeared without a successful backup");
            }
            await CrashChecks.AfterKillAsync(t, before.ToHashSet(), expected, mayRemove: expired, _rnd, problems, ct);
            await CrashDriver.TrimAsync(t, expected, ct);

            var line = $"round {round}: " + string.Join(", ", launches.Select((l, i) => $"{string.Join(' ', l.Args)} @{l.Delay.TotalMilliseconds:F0}ms -> {results[i].ExitCode}")) +
                       (problems.Count == 0 ? " ok" : " FAILED: " + string.Join("; ", problems));
            log(line);
            if (problems.Count > 0) failures.Add(line);
        }
        return new Report(rounds, commands, failures, outcomes);
    }

    Launch Plan(TestJob t, List<string> complete, int round, int index)
    {
        var op = Operations[_rnd.Next(Operations.Length)];
        var rev = complete[_rnd.Next(complete.Count)];
        var delay = TimeSpan.FromMilliseconds(_rnd.Next(400));
        var target = t.PathIn($"restored-{round}-{index}");
        return op switch
        {
            "backup" => new(op, ["backup", "daily"], delay, null, null),
            "restore" => new(op, ["restore", "-r", rev, target], delay, rev, target),
            "verify" => new(op, ["verify", "-r", rev], delay, rev, null),
            "tags" => new(op, _rnd.Next(2) == 0 ? ["tags", "add", rev, $"manual:r{round}"] : ["tags", "set", rev, "daily"], delay, rev, null),
            _ => new(op, [op], delay, null, null),
        };
    }

    /// <summary>"ok", "locked" or "gone"; anything else is a problem (returned as "failed").</summary>
    static string Classify(Launch l, WorkerProcess.Result r, HashSet<string> present, Dictionary<string, string> expected, List<string> problems)
    {
        var error = r.StdErr.Split('\n').FirstOrDefault(e => e.StartsWith("backy-worker:", StringComparison.Ordinal)) ?? "";
        if (r.ExitCode == 0)
        {
            if (l.Target is not null && Convert.ToHexString(TestJob.Sha(l.Target)) != expected[l.Revision!])
            {
                problems.Add($"restore {l.Revision} differs from the image it was taken of");
                return "failed";
            }
            return "ok";
        }
        // Restore and purge only wait; everything else that takes the backup lock may be refused at once.
        if (l.Op is not ("restore" or "purge") && error.Contains(LockRefusal, StringComparison.Ordinal))
            return "locked";
        if (l.Revision is not null && !present.Contains(l.Revision)
            && (error.Contains("no revision matches", StringComparison.Ordinal) || error.Contains("is missing", StringComparison.Ordinal)))
            return "gone";
        problems.Add($"{string.Join(' ', l.Args)} exit {r.ExitCode}: {(error.Length > 0 ? error : r.StdErr.Trim())}");
        return "failed";
    }
}
