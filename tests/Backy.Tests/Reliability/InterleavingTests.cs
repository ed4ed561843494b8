namespace Backy.Tests.Reliability;

/// <summary>
/// The seeded run of <see cref="InterleavingDriver"/>: 12 rounds, seed 1. A longer run: set
/// BACKY_INTERLEAVING_ROUNDS / BACKY_INTERLEAVING_SEED for this same test.
/// </summary>
public class InterleavingTests
{
    [Test, CancelAfter(1_800_000), Category("Slow")]
    public async Task Commands_started_together_on_one_job_never_corrupt_it(CancellationToken ct)
    {
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("BACKY_INTERLEAVING_ROUNDS"), out var n) ? n : 12;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("BACKY_INTERLEAVING_SEED"), out var s) ? s : 1;

        var report = await new InterleavingDriver(seed, line => TestContext.Progress.WriteLine(line)).RunAsync(rounds, ct);

        var summary = $"interleavings seed {seed}: {report.Rounds} rounds, {report.Commands} commands, {report.Failures.Count} failed rounds; " +
                      string.Join(", ", report.Outcomes.Select(kv => $"{kv.Key} {kv.Value}"));
        TestContext.Progress.WriteLine(summary);
        Assert.That(report.Failures, Is.Empty, summary);
        Assert.That(report.Outcomes.Keys, Has.Some.EndsWith(" locked"), "some commands really ran into each other");
    }
}
