namespace Backy.Tests.Reliability;

/// <summary>
/// The seeded run of <see cref="LostUpdateDriver"/>: 12 rounds, seed 1 in CI. The 100-round figure of RELIABILITY.md:
/// BACKY_LOSTUPDATE_ROUNDS=100 (BACKY_LOSTUPDATE_SEED for another seed) on this same test.
/// </summary>
public class LostUpdateTests
{
    [Test, CancelAfter(1_800_000), Category("Slow")]
    public async Task A_restore_that_distrusts_never_loses_a_concurrent_tag_expire_or_forget(CancellationToken ct)
    {
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("BACKY_LOSTUPDATE_ROUNDS"), out var n) ? n : 12;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("BACKY_LOSTUPDATE_SEED"), out var s) ? s : 1;

        var report = await new LostUpdateDriver(seed, line => TestContext.Progress.WriteLine(line)).RunAsync(rounds, ct);

        var summary = $"lost updates seed {seed}: {report.Rounds} rounds, {report.LostUpdates} lost updates, {report.Failures.Count} failed rounds; " +
                      string.Join(", ", report.Outcomes.Select(kv => $"{kv.Key} {kv.Value}"));
        TestContext.Progress.WriteLine(summary);
        Assert.That(report.Failures, Is.Empty, summary);
        Assert.That(report.Outcomes.Keys, Has.Some.EndsWith(" locked"), "some commands really ran into each other");
    }
}
