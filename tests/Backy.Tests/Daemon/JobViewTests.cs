using Backy.Tests.Api;
using Backy.Tests.Daemon.Support;

namespace Backy.Tests.Daemon;

/// <summary>
/// One view of a job (issue 14.6): the real daemon, the real client, and revisions that appear on disk
/// without the job loop planning again. Before, SLA and Last Backup came from the loop's own copy of the
/// history, refreshed only when it planned or succeeded.
/// </summary>
public class JobViewTests
{
    private static void WriteConfig(DaemonTestBed bed, int port, params string[] jobs) =>
        File.WriteAllText(bed.ConfigPath,
            $"global: {{base-dir: {bed.BaseDir}, worker-limit: 1}}\n" +
            $"api:\n  addrs: 127.0.0.1\n  port: {port}\n  tokens:\n    cli-token: cli\n  cli-default: {{token: cli-token}}\n" +
            "schedules:\n  fast: {often: {interval: 2s, keep: 3}}\n  daily: {daily: {interval: 1d, keep: 3}}\n" +
            "jobs:\n" + string.Concat(jobs.Select(j => j.Split(':') is [var name, var schedule]
                ? $"  {name}: {{schedule: {schedule}, source: {{type: file, filename: {bed.Root}/{name}.img}}}}\n"
                : $"  {j}: {{schedule: fast, source: {{type: file, filename: {bed.Root}/{j}.img}}}}\n")));

    /// <summary>The cells of job <paramref name="job"/>'s row in <c>backy client jobs</c>.</summary>
    private static async Task<string[]> JobsRowAsync(DaemonTestBed bed, string job, CancellationToken ct)
    {
        var result = await ClientRunner.ExecutableAsync(["-c", bed.ConfigPath, "jobs"], ct);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        var row = result.Out.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith($"│ {job} ", StringComparison.Ordinal));
        Assert.That(row, Is.Not.Null, result.Out);
        return row!.Split('│').Select(c => c.Trim()).ToArray()[1..^1];
    }

    [Test, CancelAfter(60_000)]
    public async Task After_a_run_that_failed_after_its_backup_client_jobs_shows_the_revision_it_made(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        WriteConfig(bed, ApiHarness.FreePort(), "a");
        bed.Mark("a", "fail-expire");
        using var notify = new NotifySocket();
        bed.StartDaemon(notify);

        await DaemonTestBed.WaitUntilAsync(() => bed.Log.Contains("a: failed (failure 1"), ct);
        var revision = Directory.GetFiles(bed.JobDir("a"), "*.rev").Single();
        var timestamp = DateTimeOffset.Parse(File.ReadAllLines(revision).Single(l => l.StartsWith("timestamp: ")).Split(' ')[1]);
        var row = await JobsRowAsync(bed, "a", ct);

        Assert.That(row[3], Is.EqualTo("failed"));
        Assert.That(row[4], Is.EqualTo(timestamp.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss")), "Last Backup is the revision the failed run made");
        Assert.That(row[5], Is.EqualTo("often"), "Last Tags");
    }

    [Test, CancelAfter(90_000)]
    public async Task A_manual_backup_shows_in_the_whole_row_and_in_check_at_once(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        var port = ApiHarness.FreePort();
        // "busy" holds the only worker slot, so the loop of "m" waits and never plans again by itself.
        WriteConfig(bed, port, "busy");
        bed.Mark("busy", "sleep", "300");
        // Both jobs fast (a short last backup), so that the slot rules cannot let "m" run either.
        bed.Mark("busy", "seed.rev", "uuid: seed\ntimestamp: 2020-01-01T00:00:00Z\ntags: [often]\nstats: {duration: 1.0}\n");
        using var notify = new NotifySocket();
        var daemon = bed.StartDaemon(notify);
        await DaemonTestBed.WaitUntilAsync(() => bed.Worker.Records().Any(r => r is { Kind: "start", Action: "backup", Job: "busy" }), ct);
        var old = DateTimeOffset.UtcNow.AddDays(-2);
        bed.Mark("m", "old.rev", $"uuid: old\ntimestamp: {old:yyyy-MM-ddTHH:mm:ssZ}\ntags: [daily]\nstats: {{duration: 5.0}}\n");
        File.WriteAllBytes(Path.Combine(bed.Root, "m.img"), new byte[1 << 20]);
        WriteConfig(bed, port, "busy", "m:daily");
        daemon.Signal(Posix.SigHup);
        await DaemonTestBed.WaitUntilAsync(() => bed.Log.Contains("reloaded"), ct);
        await DaemonTestBed.WaitUntilAsync(() => File.Exists(Path.Combine(bed.JobDir("m"), "config")), ct);
        var overdue = await ClientRunner.ExecutableAsync(["-c", bed.ConfigPath, "check"], ct);
        Assert.That(overdue.ExitCode, Is.Not.Zero, "m is two days old: overdue\n" + overdue);

        // The manual backup, with the real worker, while m's loop waits for the slot.
        var backup = await CliWrap.Buffered.BufferedCommandExtensions.ExecuteBufferedAsync(
            CliWrap.Cli.Wrap(Path.Combine(TestContext.CurrentContext.TestDirectory, "backy-worker"))
                .WithArguments(["-b", bed.JobDir("m"), "backup", "daily"]).WithValidation(CliWrap.CommandResultValidation.None), ct);
        Assert.That(backup.ExitCode, Is.EqualTo(0), backup.StandardError);

        var check = await ClientRunner.ExecutableAsync(["-c", bed.ConfigPath, "check"], ct);
        Assert.That(check.ExitCode, Is.EqualTo(0), "check sees the manual backup at once\n" + check);
        var row = await JobsRowAsync(bed, "m", ct);
        Assert.That(row[1], Is.EqualTo("OK"), "SLA");
        Assert.That(DateTime.Parse(row[4], System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(DateTime.UtcNow.AddMinutes(-5)), "Last Backup");
        Assert.That(row[5], Is.EqualTo("daily"), "Last Tags");
        Assert.That(row[3], Does.StartWith("waiting for worker slot"), "the loop itself did not run");
    }
}
