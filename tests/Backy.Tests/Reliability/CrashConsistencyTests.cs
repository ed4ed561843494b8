namespace Backy.Tests.Reliability;

/// <summary>
/// The short, seeded run of <see cref="CrashDriver"/>. The long run is <c>bench/crash-driver [ITERATIONS] [SEED]</c>,
/// which sets BACKY_CRASH_ITERATIONS / BACKY_CRASH_SEED for this same test.
/// </summary>
public class CrashConsistencyTests
{
    [Test, CancelAfter(3_600_000), Category("Slow")]
    public async Task Killed_workers_never_lose_or_damage_a_complete_revision(CancellationToken ct)
    {
        var iterations = int.TryParse(Environment.GetEnvironmentVariable("BACKY_CRASH_ITERATIONS"), out var n) ? n : 10;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("BACKY_CRASH_SEED"), out var s) ? s : 1;

        var report = await new CrashDriver(seed, line => TestContext.Progress.WriteLine(line)).RunAsync(iterations, ct);

        var summary = $"crash driver seed {seed}: {report.Iterations} iterations, {report.Killed} killed mid-run, " +
                      $"{report.FinishedBeforeKill} finished before the kill, {report.Failures.Count} failures; per operation: " +
                      string.Join(", ", report.PerOperation.Select(kv => $"{kv.Key} {kv.Value}"));
        TestContext.Progress.WriteLine(summary);
        if (Environment.GetEnvironmentVariable("BACKY_CRASH_REPORT") is { Length: > 0 } file)
            File.WriteAllLines(file, [summary, .. report.Failures]);
        Assert.That(report.Failures, Is.Empty, summary);
        Assert.That(report.Killed, Is.GreaterThan(0), "at least one worker was killed part-way");
    }
}
