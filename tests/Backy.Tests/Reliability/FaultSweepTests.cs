namespace Backy.Tests.Reliability;

/// <summary>
/// The bounded, seeded run of <see cref="FaultSweepDriver"/> for CI. The long run is
/// <c>bench/fault-sweep [RUNS] [SEED]</c>, which sets BACKY_FAULT_RUNS / BACKY_FAULT_SEED for this same test
/// (RUNS 0 = the whole matrix).
/// </summary>
public class FaultSweepTests
{
    [Test, CancelAfter(7_200_000), Category("Slow")]
    public async Task A_failing_system_call_never_loses_a_revision_or_reports_a_false_success(CancellationToken ct)
    {
        if (!File.Exists("/usr/bin/strace"))
        {
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail("strace is not installed (scripts/install-deps installs it)");
            Assert.Ignore("strace is not installed");
        }
        var runs = int.TryParse(Environment.GetEnvironmentVariable("BACKY_FAULT_RUNS"), out var n) ? n : 30;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("BACKY_FAULT_SEED"), out var s) ? s : 1;

        // BACKY_FAULT_COMMANDS=upgrade,nbd-server narrows the sweep to some commands (to reproduce a case).
        var commands = Environment.GetEnvironmentVariable("BACKY_FAULT_COMMANDS") is { Length: > 0 } list
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : null;

        var report = await new FaultSweepDriver(seed, line => TestContext.Progress.WriteLine(line), commands).RunAsync(runs, ct);

        WriteReport(report, seed, "BACKY_FAULT_REPORT");
        AssertClean(report);
    }

    /// <summary>The summary on the test's output, and the whole report in the file the variable names (if set).</summary>
    internal static void WriteReport(FaultSweepDriver.Report report, int seed, string fileVariable)
    {
        var summary = $"fault sweep seed {seed}: {report.Summary}";
        TestContext.Progress.WriteLine(summary);
        if (Environment.GetEnvironmentVariable(fileVariable) is { Length: > 0 } file)
            File.WriteAllLines(file, [summary, .. report.Lost, .. report.FalseSuccesses, .. report.UnclearMessages, .. report.Other]);
    }

    internal static void AssertClean(FaultSweepDriver.Report report) => Assert.Multiple(() =>
    {
        Assert.That(report.Lost, Is.Empty, "completed revisions lost or damaged");
        Assert.That(report.FalseSuccesses, Is.Empty, "exit 0 without the command's effect");
        Assert.That(report.UnclearMessages, Is.Empty, "failures without one line naming the thing and the reason");
        Assert.That(report.Other, Is.Empty, "no clean next run");
        Assert.That(report.Fired, Is.GreaterThan(0), "at least one fault fired");
    });
}
