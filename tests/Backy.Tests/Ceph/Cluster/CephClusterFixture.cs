using System.Text;
using Backy.Sources.Ceph;
using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Ceph.Cluster;

/// <summary>
/// Starts one throwaway Ceph cluster (scripts/ceph-cluster) for every test in this namespace and stops it at the
/// end. Without the Ceph packages the tests are ignored on a developer machine but FAIL in CI (CI=true), where
/// scripts/install-deps must have installed them.
/// </summary>
[SetUpFixture]
public sealed class CephClusterFixture
{
    private static string? _dir;
    private static CephClientOptions? _options;

    public static CephClientOptions Options => _options ?? throw new InvalidOperationException("the Ceph cluster is not running");

    /// <summary>The cluster's directory (ceph.conf, logs).</summary>
    public static string Directory => _dir ?? throw new InvalidOperationException("the Ceph cluster is not running");

    public static string Script { get; } = FindScript();

    [OneTimeSetUp]
    public async Task StartCluster()
    {
        var missing = new[] { "ceph-mon", "ceph-osd", "rbd" }.Where(p => !OnPath(p)).ToArray();
        if (missing.Length > 0)
        {
            var reason = $"Ceph tests need {string.Join(", ", missing)} (Debian packages ceph-mon ceph-osd ceph-common; scripts/install-deps installs them)";
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(reason);
            Assert.Ignore(reason);
        }
        _dir = Path.Combine(Path.GetTempPath(), "backy-ceph-" + Guid.NewGuid().ToString("N")[..8]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var result = await CliWrap.Cli.Wrap(Script).WithArguments(["start", _dir]).WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(timeout.Token);
        if (result.ExitCode != 0)
            Assert.Fail($"scripts/ceph-cluster start failed ({result.ExitCode}): {result.StandardError}");
        _options = new CephClientOptions("rbd", CephArgs: $"--conf {Path.Combine(_dir, "ceph.conf")}");
    }

    [OneTimeTearDown]
    public async Task StopCluster()
    {
        if (_dir is null) return;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await CliWrap.Cli.Wrap(Script).WithArguments(["stop", _dir]).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(timeout.Token);
        _dir = null;
        _options = null;
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(d => File.Exists(Path.Combine(d, program)));

    private static string FindScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "scripts", "ceph-cluster");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("scripts/ceph-cluster not found above " + AppContext.BaseDirectory);
    }
}
