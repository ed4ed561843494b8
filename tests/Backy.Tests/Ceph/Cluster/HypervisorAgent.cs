using System.Text.Json.Nodes;
using Backy.Sources.Ceph;

namespace Backy.Tests.Ceph.Cluster;

/// <summary>
/// Simulates the Flying Circus hypervisor agent: watches Consul's <c>snapshot/</c> requests for its VM and takes
/// the requested snapshot with the real rbd, the way the agent does after freezing the guest. It does not
/// delete the request (the real agent does not either: that is Backy's cleanup).
/// </summary>
internal sealed class HypervisorAgent : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public HypervisorAgent(FakeConsul consul, string vm, RbdImageSpec image)
    {
        _loop = Task.Run(async () =>
        {
            var done = new HashSet<string>();
            while (!_stop.IsCancellationRequested)
            {
                foreach (var (key, value) in consul.Kv.ToArray())
                {
                    if (!key.StartsWith("snapshot/", StringComparison.Ordinal) || done.Contains(key)) continue;
                    JsonObject? request;
                    try { request = JsonNode.Parse(value) as JsonObject; } catch (System.Text.Json.JsonException) { continue; }
                    if ((string?)request?["vm"] != vm) continue;
                    done.Add(key);
                    await TestImages.RbdAsync(_stop.Token, "snap", "create", "--no-progress", image.At((string)request!["snapshot"]!));
                    Snapshots.Add((string)request["snapshot"]!);
                }
                try { await Task.Delay(100, _stop.Token); } catch (OperationCanceledException) { }
            }
        });
    }

    public List<string> Snapshots { get; } = [];

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try { await _loop; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
