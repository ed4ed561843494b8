using Backy.Sources.Ceph;
using Backy.Storage.Backup;
using Microsoft.Extensions.Logging.Abstractions;

namespace Backy.Tests.Ceph.Cluster;

[Category("Ceph")]
public class FlyingCircusSourceTests
{
    private const int MiB = 1 << 20;

    private static FlyingCircusSource Source(RbdImageSpec image, Uri consul, TimeSpan timeout, string? token = null) =>
        new(image, false, "vm01", token, consul, CephClusterFixture.Options, NullLoggerFactory.Instance, TimeProvider.System)
        {
            SnapshotTimeout = timeout,
            PollInterval = TimeSpan.FromMilliseconds(200),
        };

    private static Task<string[]> Snapshots(RbdImageSpec image, CancellationToken ct) => TestImages.SnapshotsAsync(image, ct);

    [Test]
    [CancelAfter(60_000)]
    public async Task The_agent_takes_the_requested_snapshot_and_stale_requests_for_the_vm_are_removed(CancellationToken ct)
    {
        var image = await TestImages.CreateAsync("fc-agent", 4 * MiB, ct);
        await using var consul = new FakeConsul(token: "secret");
        consul.Kv["snapshot/stale-1"] = """{"vm": "vm01", "snapshot": "backy-old"}""";
        consul.Kv["snapshot/other"] = """{"vm": "vm02", "snapshot": "backy-x"}""";
        consul.Kv["snapshot/garbage"] = "not json";
        consul.Kv["unrelated/key"] = "keep";
        await using var agent = new HypervisorAgent(consul, "vm01", image);

        // A generous timeout: the agent answers within a poll or two; a fallback would show in the agent's list.
        var source = Source(image, consul.Address, TimeSpan.FromSeconds(30), token: "secret");
        await using (var snapshot = await source.OpenSnapshotAsync(new SnapshotRequest("rev1", null, false), ct))
        {
            Assert.That(agent.Snapshots, Does.Contain("backy-rev1"), "the agent, not the fallback, took the snapshot");
            await snapshot.CompleteAsync(true, ct);
        }

        Assert.That(await Snapshots(image, ct), Is.EqualTo(new[] { "backy-rev1" }));
        Assert.That(consul.Kv.Keys.Order(), Is.EqualTo(new[] { "snapshot/other", "unrelated/key" }));
        Assert.That(consul.Requests.Any(r => r.StartsWith("PUT /v1/kv/snapshot/", StringComparison.Ordinal)));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_silent_agent_means_a_plain_snapshot_after_the_timeout(CancellationToken ct)
    {
        var image = await TestImages.CreateAsync("fc-silent", 4 * MiB, ct);
        await using var consul = new FakeConsul();
        var source = Source(image, consul.Address, TimeSpan.FromSeconds(1));

        await using (var snapshot = await source.OpenSnapshotAsync(new SnapshotRequest("rev2", null, false), ct))
            await snapshot.CompleteAsync(true, ct);

        Assert.That(await Snapshots(image, ct), Is.EqualTo(new[] { "backy-rev2" }));
        Assert.That(consul.Kv, Is.Empty, "our own request is removed too");
        Assert.That(consul.Requests.Count(r => r.StartsWith("PUT", StringComparison.Ordinal)), Is.EqualTo(1));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task An_unreachable_consul_means_a_plain_snapshot_at_once(CancellationToken ct)
    {
        var image = await TestImages.CreateAsync("fc-noconsul", 4 * MiB, ct);
        var nobody = new Uri($"http://127.0.0.1:{FakeConsul.FreePort()}/");
        // An hour of timeout: only the immediate fallback lets this test finish.
        var source = Source(image, nobody, TimeSpan.FromHours(1));

        await using (var snapshot = await source.OpenSnapshotAsync(new SnapshotRequest("rev3", null, false), ct))
            await snapshot.CompleteAsync(true, ct);

        Assert.That(await Snapshots(image, ct), Is.EqualTo(new[] { "backy-rev3" }));
    }
}
