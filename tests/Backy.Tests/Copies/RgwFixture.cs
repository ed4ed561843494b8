using Amazon.S3.Model;
using Backy.Copies.S3;
using Backy.Tests.Ceph.Cluster;
using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Copies;

/// <summary>
/// One throwaway Ceph cluster with radosgw (scripts/ceph-cluster start + rgw) for every test in this namespace.
/// Without the packages the tests are ignored on a developer machine but FAIL in CI (CI=true).
/// </summary>
[SetUpFixture]
public sealed class RgwFixture
{
    private static string? _dir;

    public static string Endpoint { get; private set; } = "";
    public static string AccessKey { get; private set; } = "";
    public static string SecretKey { get; private set; } = "";

    [OneTimeSetUp]
    public async Task StartRgw()
    {
        var missing = new[] { "ceph-mon", "ceph-osd", "rbd", "radosgw", "radosgw-admin", "curl" }
            .Where(p => !(Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, p)))).ToArray();
        if (missing.Length > 0)
        {
            var reason = $"copy tests need {string.Join(", ", missing)} (scripts/install-deps installs them)";
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(reason);
            Assert.Ignore(reason);
        }
        _dir = Path.Combine(Path.GetTempPath(), "backy-rgw-" + Guid.NewGuid().ToString("N")[..8]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        foreach (var step in new[] { "start", "rgw" })
        {
            var r = await CliWrap.Cli.Wrap(CephClusterFixture.Script).WithArguments([step, _dir]).WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync(timeout.Token);
            if (r.ExitCode != 0) Assert.Fail($"scripts/ceph-cluster {step} failed ({r.ExitCode}): {r.StandardError}");
        }
        var env = File.ReadAllLines(Path.Combine(_dir, "rgw.env")).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Endpoint = env["S3_ENDPOINT"];
        AccessKey = env["AWS_ACCESS_KEY_ID"];
        SecretKey = env["AWS_SECRET_ACCESS_KEY"];
    }

    [OneTimeTearDown]
    public async Task StopRgw()
    {
        if (_dir is null) return;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await CliWrap.Cli.Wrap(CephClusterFixture.Script).WithArguments(["stop", _dir]).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(timeout.Token);
        _dir = null;
    }

    public static S3ObjectStore Store(string bucket) => new(Endpoint, "default", AccessKey, SecretKey, bucket);

    /// <summary>A new bucket with a unique name; with <paramref name="objectLock"/> created with Object Lock enabled.</summary>
    public static async Task<string> NewBucketAsync(CancellationToken cancellationToken, bool objectLock = false)
    {
        var name = "t-" + Guid.NewGuid().ToString("N")[..16];
        using var store = Store(name);
        await store.Client.PutBucketAsync(new PutBucketRequest { BucketName = name, ObjectLockEnabledForBucket = objectLock }, cancellationToken);
        return name;
    }

    /// <summary>The environment a stand-alone `--from` command gets its credentials from.</summary>
    public static Dictionary<string, string?> AwsEnvironment() => new()
    {
        ["AWS_ACCESS_KEY_ID"] = AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = SecretKey,
        ["AWS_REGION"] = "default",
        ["AWS_ENDPOINT_URL"] = Endpoint,
        ["BACKY_ENCRYPTION_KEY_FILE"] = null,
    };
}
