using Backy.Tests.Reliability;

namespace Backy.Tests.Copies;

/// <summary>
/// The fault sweep's <c>copy</c> cases (<see cref="FaultSweepDriver"/>) against the real radosgw of
/// <see cref="RgwFixture"/>: failing opens and reads of the job's files, and connect/send/receive failing with
/// a reset or a time-out. Bounded for CI; <c>bench/fault-sweep</c> sets BACKY_FAULT_COPY_RUNS for a longer run.
/// </summary>
[Category("Ceph"), Category("Slow")]
public class CopyFaultSweepTests
{
    [Test, CancelAfter(3_600_000)]
    public async Task A_failing_system_call_never_leaves_a_copy_that_looks_complete_and_the_rerun_completes_it(CancellationToken ct)
    {
        if (!File.Exists("/usr/bin/strace"))
        {
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail("strace is not installed (scripts/install-deps installs it)");
            Assert.Ignore("strace is not installed");
        }
        var runs = int.TryParse(Environment.GetEnvironmentVariable("BACKY_FAULT_COPY_RUNS"), out var n) ? n : 8;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("BACKY_FAULT_SEED"), out var s) ? s : 1;
        var bucket = await RgwFixture.NewBucketAsync(ct);
        using var store = RgwFixture.Store(bucket);
        var target = new FaultSweepCopyTarget(
            prefix => $"copies:\n  offsite:\n    type: s3\n    endpoint: {RgwFixture.Endpoint}\n    bucket: {bucket}\n    prefix: {prefix}\n" +
                      $"    region: default\n    access-key: {RgwFixture.AccessKey}\n    secret-key: {RgwFixture.SecretKey}\n",
            prefix => $"s3://{bucket}/{prefix}job",
            RgwFixture.AwsEnvironment(),
            async (prefix, token) =>
            {
                var keys = new List<string>();
                await foreach (var o in store.ListAsync(prefix + "job/", recursive: true, token)) keys.Add(o.Key[(prefix.Length + 4)..]);
                return keys;
            });

        var report = await new FaultSweepDriver(seed, line => TestContext.Progress.WriteLine(line), ["copy"], target).RunAsync(runs, ct);

        FaultSweepTests.WriteReport(report, seed, "BACKY_FAULT_COPY_REPORT");
        FaultSweepTests.AssertClean(report);
    }
}
