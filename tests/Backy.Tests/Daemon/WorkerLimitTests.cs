using Backy.Tests.Daemon.Support;

namespace Backy.Tests.Daemon;

/// <summary>
/// worker-limit is the total number of concurrent job runs (issue 14.9; the manual: "Defaults to 1 (no
/// parallel backups)"), with the real daemon and the stand-in worker. Before, each speed class had its own
/// worker-limit slots: a limit of 1 ran one slow and one fast backup at once.
/// </summary>
public class WorkerLimitTests
{
    private const string ShortHistory = "uuid: seed\ntimestamp: 2020-01-01T00:00:00Z\ntags: [often]\nstats: {duration: 1.0}\n";

    /// <summary>Every worker process as (job, start, end); a process still running ends at +inf.</summary>
    private static (string Job, string Action, double Start, double End)[] Spans(DaemonTestBed bed)
    {
        var records = bed.Worker.Records();
        return records.Where(r => r.Kind == "start")
            .Select(s => (s.Job, s.Action, s.Time, records.FirstOrDefault(e => e.Kind is "end" or "term" && e.Pid == s.Pid)?.Time ?? double.MaxValue))
            .ToArray();
    }

    /// <summary>The most worker processes of different jobs alive at one moment.</summary>
    private static int MostJobsAtOnce(IEnumerable<(string Job, string Action, double Start, double End)> spans)
    {
        var all = spans.ToArray();
        return all.Length == 0 ? 0 : all.Max(x => all.Where(y => y.Start <= x.Start && x.Start < y.End).Select(y => y.Job).Distinct().Count());
    }

    [Test, CancelAfter(90_000)]
    public async Task A_limit_of_1_never_runs_a_slow_and_a_fast_job_at_once(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        bed.WriteConfig("2s", 1, "fast", "slow");
        bed.Mark("fast", "seed.rev", ShortHistory); // fast: a last backup of 1 s
        bed.Mark("fast", "sleep", "1");
        bed.Mark("slow", "sleep", "3");             // slow: no history yet
        var daemon = bed.StartDaemon();

        await DaemonTestBed.WaitUntilAsync(() =>
            bed.Worker.Records().Count(r => r is { Kind: "end", Action: "purge", Job: "fast" }) >= 2 &&
            bed.Worker.Records().Count(r => r is { Kind: "end", Action: "purge", Job: "slow" }) >= 1, ct);
        daemon.Signal(Posix.SigTerm);
        Assert.That(await daemon.WaitForExitAsync(ct), Is.EqualTo(0), daemon.Stderr);

        Assert.That(MostJobsAtOnce(Spans(bed)), Is.EqualTo(1), string.Join('\n', Spans(bed)));
    }

    [Test, CancelAfter(90_000)]
    public async Task With_a_limit_of_2_slow_jobs_leave_a_slot_for_fast_ones(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        bed.WriteConfig("2s", 2, "fast", "slow1", "slow2");
        bed.Mark("fast", "seed.rev", ShortHistory);
        // The slow jobs' first backups run until the test lets them go: no assumption about how much the fast job
        // gets done in some seconds on a loaded machine.
        bed.Mark("slow1", "hold");
        bed.Mark("slow2", "hold");
        var daemon = bed.StartDaemon();

        // While the first slow backup holds its slot, the fast job keeps running (two backups after it started).
        double? FirstSlowStart() =>
            Spans(bed).Where(s => s.Job.StartsWith("slow", StringComparison.Ordinal) && s.Action == "backup").Select(s => (double?)s.Start).Min();
        await DaemonTestBed.WaitUntilAsync(() =>
            FirstSlowStart() is { } first &&
            Spans(bed).Count(s => s is { Job: "fast", Action: "backup" } && s.Start > first && s.End < double.MaxValue) >= 2, ct);
        var held = Spans(bed).Where(s => s.Job.StartsWith("slow", StringComparison.Ordinal) && s.Action == "backup").ToArray();
        Assert.That(held, Has.Length.EqualTo(1), "slow jobs take at most limit - 1 slots: the second waits for the first");
        File.Delete(Path.Combine(bed.JobDir("slow1"), "hold"));
        File.Delete(Path.Combine(bed.JobDir("slow2"), "hold"));

        await DaemonTestBed.WaitUntilAsync(() =>
            bed.Worker.Records().Count(r => r is { Kind: "end", Action: "purge", Job: "slow1" }) >= 1 &&
            bed.Worker.Records().Count(r => r is { Kind: "end", Action: "purge", Job: "slow2" }) >= 1, ct);
        daemon.Signal(Posix.SigTerm);
        Assert.That(await daemon.WaitForExitAsync(ct), Is.EqualTo(0), daemon.Stderr);

        var spans = Spans(bed);
        Assert.That(MostJobsAtOnce(spans), Is.LessThanOrEqualTo(2), "the total limit");
        var slowBackups = new[] { "slow1", "slow2" }.Select(j => spans.First(s => s.Job == j && s.Action == "backup")).OrderBy(s => s.Start).ToArray();
        Assert.That(slowBackups[1].Start, Is.GreaterThanOrEqualTo(slowBackups[0].End), "slow jobs take at most limit - 1 slots");
    }
}
