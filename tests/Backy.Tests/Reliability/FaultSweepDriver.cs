using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Backy.Storage.Chunks;
using Backy.Storage.Revisions;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Reliability;

/// <summary>
/// Seeded fault-injection sweep: each case runs one real <c>backy-worker</c> command with one failing system call
/// (<see cref="FaultInjection"/>) on a job that keeps a few complete revisions, then checks the promises of
/// RELIABILITY.md: every revision complete before still holds its image (and a seeded one restores through the
/// real worker); exit 0 only when the command's effect is complete and true; a failure is one line naming the
/// thing and the reason; and the next run without a fault succeeds and cleans up. Aborts inside the .NET runtime
/// (its own descriptors: exit 134 and the like) are counted apart; they are checked for lost data like the rest.
/// </summary>
public sealed partial class FaultSweepDriver(int seed, Action<string> log, IReadOnlyList<string>? commands = null,
    FaultSweepCopyTarget? copy = null)
{
    /// <summary>The commands that run on the sweep's own job directory.</summary>
    public static readonly string[] JobCommands =
        ["backup", "restore-file", "restore-stdout", "verify", "purge", "expire", "tags", "forget", "distrust"];

    /// <summary>
    /// What the sweep runs without a copy target: the job commands, <c>upgrade</c> (on a fresh copy of a legacy
    /// job directory per case) and <c>nbd-server</c> (serving while nbdcopy reads). <c>copy</c> needs a radosgw
    /// (<see cref="FaultSweepCopyTarget"/>, the Ceph test <c>Copies.CopyFaultSweepTests</c>).
    /// </summary>
    public static readonly string[] DefaultCommands = [.. JobCommands, "upgrade", "nbd-server"];

    readonly IReadOnlyList<string> _commands = commands ?? DefaultCommands;
    const int ImageBlocks = 5; // 20 MiB, as in the report of issue 20

    readonly Random _rnd = new(seed);

    public sealed record Case(string Command, FaultInjection Fault);

    public sealed record Report(int Runs, int Fired, int Failed, int RuntimeAborts, IReadOnlyList<string> Lost,
        IReadOnlyList<string> FalseSuccesses, IReadOnlyList<string> UnclearMessages, IReadOnlyList<string> Other,
        IReadOnlyDictionary<string, int> PerCommand, IReadOnlyDictionary<string, int> PerSyscall)
    {
        public string Summary =>
            $"{Runs} runs ({Fired} with the fault fired, {Failed} exited non-zero, {RuntimeAborts} runtime aborts): " +
            $"{Lost.Count} lost, {FalseSuccesses.Count} false successes, {UnclearMessages.Count} unclear messages, " +
            $"{Other.Count} other problems; per command: {string.Join(", ", PerCommand.Select(kv => $"{kv.Key} {kv.Value}"))}; " +
            $"per syscall: {string.Join(", ", PerSyscall.Where(kv => kv.Value > 0).Select(kv => $"{kv.Key} {kv.Value}"))}";
    }

    /// <summary>
    /// Every case that can fire: command x syscall it makes x error x Nth call (up to its call count) x
    /// (anywhere | job files only). The counts come from one <see cref="FaultInjection.CensusAsync"/> per command.
    /// </summary>
    public static IEnumerable<Case> Matrix(IEnumerable<string> commands, IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> census) =>
        from command in commands
        from kv in FaultInjection.Errors
        where census[command].ContainsKey(kv.Key) && FaultInjection.SweptFor(command).Contains(kv.Key)
        from errno in kv.Value
        from nth in FaultInjection.Calls.Where(n => n <= census[command][kv.Key])
        from jobOnly in FaultInjection.NamesAFile(kv.Key) ? new[] { true, false } : [false]
        // A socket call also fails for good (a network that stays down): one failed call the SDK just retries.
        from persistent in FaultInjection.NamesAFile(kv.Key) ? new[] { false } : [false, true]
        select new Case(command, new FaultInjection(kv.Key, errno, nth, jobOnly, persistent));

    /// <summary>Runs <paramref name="runs"/> cases drawn from the matrix by the seed (all of it when runs is 0).</summary>
    public async Task<Report> RunAsync(int runs, CancellationToken ct)
    {
        var lost = new List<string>(); var falseOk = new List<string>(); var unclear = new List<string>(); var other = new List<string>();
        int fired = 0, failed = 0, aborts = 0;
        var perCommand = _commands.ToDictionary(c => c, _ => 0);
        var perSyscall = FaultInjection.Errors.Keys.ToDictionary(s => s, _ => 0);

        using var t = new TestJob("daily: {interval: 1d, keep: 3}");
        var expected = new Dictionary<string, string>();
        TestImages.WriteMixed(t.ImagePath, (long)ImageBlocks * Blocks.Size, seed);
        for (var i = 0; i < 2; i++)
        {
            CrashDriver.ChangeImage(t.ImagePath, _rnd, ImageBlocks, maxBlocks: 2);
            await CrashDriver.BackupUncutAsync(t, expected, ct);
        }

        var census = new Dictionary<string, IReadOnlyDictionary<string, int>>();
        foreach (var command in _commands)
        {
            if (command is "upgrade" or "nbd-server" or "copy")
            {
                census[command] = command switch
                {
                    "upgrade" => await UpgradeCensusAsync(t, ct),
                    "nbd-server" => await NbdCensusAsync(t, ct),
                    _ => await CopyCensusAsync(t, ct),
                };
                continue;
            }
            // On a copy of the job: the census run changes what it runs on (forget, tags, a new revision).
            var copy = t.PathIn("census-job");
            CopyDirectory(t.JobPath, copy);
            census[command] = await FaultInjection.CensusAsync(copy, ArgumentsFor(command, t.Job.CompleteRevisions()[0].Id, t.PathIn("census"), "manual:census"), ct);
            Directory.Delete(copy, recursive: true);
            File.Delete(t.PathIn("census"));
        }
        var matrix = Matrix(_commands, census).ToList();
        log("census: " + string.Join("; ", census.Select(kv => $"{kv.Key}: " + string.Join(' ', kv.Value.Select(c => $"{c.Key} {c.Value}")))));
        var cases = runs <= 0 || runs >= matrix.Count ? matrix : matrix.OrderBy(_ => _rnd.Next()).Take(runs).ToList();
        log($"fault sweep: {matrix.Count} cases can fire; running {cases.Count}");

        for (var i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            perCommand[c.Command]++;
            perSyscall[c.Fault.Syscall]++;
            var outcome = await RunCaseAsync(t, c, i, expected, ct);
            if (outcome.Fired) fired++;
            if (outcome.ExitCode != 0) failed++;
            if (outcome.RuntimeAbort) aborts++;
            var line = $"case {i}: {c.Command} {c.Fault} exit {outcome.ExitCode}{(outcome.Fired ? "" : " (not fired)")}{outcome.Note}" +
                       (outcome.RuntimeAbort ? " runtime abort" : "") + (outcome.Message is { } m ? $" \"{m}\"" : "");
            lost.AddRange(outcome.Lost.Select(p => $"{line}: {p}"));
            falseOk.AddRange(outcome.FalseSuccess.Select(p => $"{line}: {p}"));
            if (outcome.Unclear) unclear.Add(line);
            other.AddRange(outcome.Other.Select(p => $"{line}: {p}"));
            var bad = outcome.Lost.Count + outcome.FalseSuccess.Count + outcome.Other.Count > 0 || outcome.Unclear;
            // An exit 0 with the fault fired: which call failed and was absorbed (a retry, a fallback, a path that may fail).
            if (outcome.ExitCode == 0 && outcome.Fired && outcome.FirstInjected is { } call) line += $" [absorbed: {call}]";
            log(line + (bad ? " PROBLEM: " + string.Join("; ", [.. outcome.Lost, .. outcome.FalseSuccess, .. outcome.Other, .. outcome.Unclear ? ["unclear message"] : Array.Empty<string>()]) : " ok"));
        }
        return new Report(cases.Count, fired, failed, aborts, lost, falseOk, unclear, other, perCommand, perSyscall);
    }

    sealed record CaseOutcome(int ExitCode, bool Fired, bool RuntimeAbort, string? Message, bool Unclear,
        List<string> Lost, List<string> FalseSuccess, List<string> Other, string Note = "", string? FirstInjected = null);

    Task<CaseOutcome> RunCaseAsync(TestJob t, Case c, int index, Dictionary<string, string> expected, CancellationToken ct) =>
        c.Command switch
        {
            "upgrade" => RunUpgradeCaseAsync(t, c, ct),
            "nbd-server" => RunNbdCaseAsync(t, c, expected, ct),
            "copy" => RunCopyCaseAsync(t, c, index, expected, ct),
            _ => RunJobCaseAsync(t, c, index, expected, ct),
        };

    /// <summary>The message of a failed run, and whether it is unclear (a runtime abort is not ours to word).</summary>
    static (string? Message, bool Unclear) Judge(FaultInjection.Outcome run)
    {
        if (run.ExitCode == 0) return (null, false);
        var message = LastErrorLine(run.StdErr) ?? FirstLine(run.StdErr);
        return (message, !IsRuntimeAbort(run) && !IsClear(message));
    }

    async Task<CaseOutcome> RunJobCaseAsync(TestJob t, Case c, int index, Dictionary<string, string> expected, CancellationToken ct)
    {
        var complete = t.Job.CompleteRevisions().Select(r => r.Id).OrderBy(id => id, StringComparer.Ordinal).ToList();
        var pick = complete[_rnd.Next(complete.Count)];
        var target = t.PathIn("restored");
        File.Delete(target);
        if (c.Command == "backup") CrashDriver.ChangeImage(t.ImagePath, _rnd, ImageBlocks, maxBlocks: 2);
        var imageSha = Convert.ToHexString(TestJob.Sha(t.ImagePath));
        var tag = $"manual:fault{index}";
        var args = ArgumentsFor(c.Command, pick, target, tag);
        var before = complete.ToHashSet();

        var run = await c.Fault.RunAsync(t.JobPath, FaultInjection.WatchedPaths(t.JobPath, target), args, ct);
        var lost = new List<string>(); var falseOk = new List<string>(); var other = new List<string>();
        var abort = IsRuntimeAbort(run);
        var (message, unclear) = Judge(run);

        // New complete revisions may only come from a backup, and must hold the image it read.
        foreach (var r in t.Job.CompleteRevisions().Where(r => !before.Contains(r.Id)))
        {
            if (c.Command == "backup") expected[r.Id] = imageSha;
            else other.Add($"revision {r.Id} appeared during {c.Command}");
        }
        if (run.ExitCode == 0) CheckEffect(t, c.Command, pick, tag, before, target, run, expected, falseOk);

        var mayRemove = c.Command is "expire" or "forget";
        var problems = new List<string>();
        await CrashChecks.AfterKillAsync(t, before, expected, mayRemove, _rnd, problems, ct);
        lost.AddRange(problems);
        foreach (var id in expected.Keys.Where(id => !t.Job.CompleteRevisions().Any(r => r.Id == id)).ToList())
            expected.Remove(id);

        // The same command without a fault succeeds (where it still makes sense), then a backup cleans up.
        if (c.Command is not ("forget" or "backup"))
        {
            var again = await WorkerProcess.RunBinaryAsync(t.JobPath, ct, args);
            if (again.ExitCode != 0 && !(c.Command is "restore-file" or "restore-stdout" or "verify" or "tags" or "distrust"
                                         && !t.Job.CompleteRevisions().Any(r => r.Id == pick)))
                other.Add($"rerun without fault exit {again.ExitCode}: {LastErrorLine(again.StdErr)}");
        }
        File.Delete(target);
        var next = new List<string>();
        await CrashChecks.NextBackupCleansUpAsync(t, expected, Convert.ToHexString(TestJob.Sha(t.ImagePath)), next, ct);
        other.AddRange(next);
        await CrashDriver.TrimAsync(t, expected, ct);
        return new CaseOutcome(run.ExitCode, run.Injected > 0, abort, message, unclear, lost, falseOk, other, FirstInjected: run.FirstInjected);
    }

    /// <summary>Copies a directory tree; a symbolic link into the tree becomes the same link into the copy.</summary>
    static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(to, Path.GetRelativePath(from, file));
            if (new FileInfo(file).LinkTarget is { } link)
                File.CreateSymbolicLink(destination, link.StartsWith(from + "/", StringComparison.Ordinal) ? Path.Combine(to, link[(from.Length + 1)..]) : link);
            else
                File.Copy(file, destination);
        }
    }

    static string[] ArgumentsFor(string command, string pick, string target, string tag) => command switch
    {
        "backup" => ["backup", "daily"],
        "restore-file" => ["restore", "-r", pick, target],
        "restore-stdout" => ["restore", "-r", pick, "-"],
        "verify" => ["verify", "-r", pick],
        "tags" => ["tags", "add", pick, tag],
        "forget" => ["forget", "-r", pick],
        "distrust" => ["distrust", "-r", pick],
        _ => [command],
    };

    /// <summary>Exit 0 promises the command's whole effect: checked on disk, not taken from the command's word.</summary>
    static void CheckEffect(TestJob t, string command, string pick, string tag, IReadOnlySet<string> before, string target,
        FaultInjection.Outcome run, IReadOnlyDictionary<string, string> expected, List<string> falseOk)
    {
        switch (command)
        {
            case "backup":
                if (!t.Job.CompleteRevisions().Any(r => !before.Contains(r.Id)))
                    falseOk.Add("backup exited 0 without a new complete revision");
                break;
            case "restore-file":
                if (!File.Exists(target) || Convert.ToHexString(TestJob.Sha(target)) != expected[pick])
                    falseOk.Add("restore exited 0 but the target differs from the revision");
                break;
            case "restore-stdout":
                if (Convert.ToHexString(SHA256.HashData(run.StdOut)) != expected[pick])
                    falseOk.Add($"restore - exited 0 but wrote {run.StdOut.Length} bytes that differ from the revision");
                break;
            case "verify":
                if (Load(t, pick) is not { Trust: Trust.Verified })
                    falseOk.Add("verify exited 0 but the revision is not verified");
                break;
            case "tags":
                if (Load(t, pick) is not { } tagged || !tagged.Tags.Contains(tag))
                    falseOk.Add("tags add exited 0 but the tag is not on disk");
                break;
            case "forget":
                if (File.Exists(t.Job.RevisionPath(pick)))
                    falseOk.Add("forget exited 0 but the revision is still there");
                break;
            case "distrust":
                if (Load(t, pick) is not { Trust: Trust.Distrusted })
                    falseOk.Add("distrust exited 0 but the revision is not distrusted");
                break;
        }
    }

    static Revision? Load(TestJob t, string id)
    {
        try { return t.Job.LoadRevision(id); }
        catch (Exception e) when (e is IOException or Backy.Storage.BackyException) { return null; }
    }

    /// <summary>
    /// A failure outside our code: our commands exit 0 or 1 (with one <c>backy-worker:</c> line), so any other
    /// status is the host or runtime giving up (a shared library it could not read: 127; a write to the runtime's
    /// own descriptor or a thread it could not resume: 134).
    /// </summary>
    static bool IsRuntimeAbort(FaultInjection.Outcome run) => run.ExitCode is not (0 or 1);

    static string? LastErrorLine(string stderr) =>
        stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .LastOrDefault(l => l.StartsWith("backy-worker: ", StringComparison.Ordinal));

    static string FirstLine(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "(nothing on stderr)";

    /// <summary>One line that names the thing (a quoted name or a path) and the reason, without exception type names.</summary>
    static bool IsClear(string? line) =>
        line is { Length: > 20 } && line.StartsWith("backy-worker: ", StringComparison.Ordinal) && !ExceptionName().IsMatch(line) && (line.Contains('\'') || line.Contains('/'));

    [GeneratedRegex(@"\b\w*Exception\b|\bat [A-Z]\w+\.")]
    private static partial Regex ExceptionName();
}
