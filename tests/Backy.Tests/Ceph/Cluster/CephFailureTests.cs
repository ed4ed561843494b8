using Backy.Sources.Ceph;
using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Ceph.Cluster;

/// <summary>
/// A cluster that goes away: started just for this test (the shared one must stay up), stopped between two
/// backups. The client timeouts in its [client] section make librados fail instead of hanging.
/// </summary>
[Category("Ceph")]
[Category("Slow")]
public class CephFailureTests
{
    private const int MiB = 1 << 20;

    [Test]
    [CancelAfter(240_000)]
    public async Task A_stopped_cluster_fails_the_backup_clearly_and_leaves_no_new_revision(CancellationToken ct)
    {
        var dir = Path.Combine(Path.GetTempPath(), "backy-ceph-stop-" + Guid.NewGuid().ToString("N")[..8]);
        var script = CephClusterFixture.Script;
        var start = await CliWrap.Cli.Wrap(script).WithArguments(["start", dir]).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(ct);
        Assert.That(start.ExitCode, Is.Zero, start.StandardError);
        try
        {
            // A copy of the config outlives "stop" (which deletes the cluster directory): the client then finds
            // the monitor's address and nobody answering there, as with a cluster that died.
            var conf = dir + ".conf";
            File.Copy(Path.Combine(dir, "ceph.conf"), conf);
            var options = new CephClientOptions("rbd", CephArgs: $"--conf {conf}");
            var image = new RbdImageSpec("rbd", "doomed");
            await CliWrap.Cli.Wrap("rbd").WithArguments(["create", "--size", "8M", image.ToString()])
                .WithEnvironmentVariables(e => e.Set("CEPH_ARGS", options.CephArgs)).ExecuteBufferedAsync(ct);
            using var job = new CephJob(image, options: options);
            var first = await job.BackupAsync(ct);

            await CliWrap.Cli.Wrap(script).WithArguments(["stop", dir]).ExecuteBufferedAsync(ct);
            var (exit, stderr) = await job.TryBackupAsync(ct);

            Assert.That(exit, Is.EqualTo(1));
            Assert.That(stderr, Does.Contain($"cannot read source {image}: cannot connect to the Ceph cluster ("));
            Assert.That(job.Job.LoadRevisions().Select(r => r.Id), Is.EqualTo(new[] { first.Id }), "no new revision, complete or not");
        }
        finally
        {
            await CliWrap.Cli.Wrap(script).WithArguments(["stop", dir]).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(CancellationToken.None);
            File.Delete(dir + ".conf");
        }
    }
}
