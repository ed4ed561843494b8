namespace Backy.Tests.Peers;

/// <summary>
/// Every run asks each peer whether it has the job's dead directory (TouchDeadBackup, then
/// ListRevisions); usually it has none. That NotFound is an answer, not trouble (issue 14, item 12):
/// two real daemons, and the peer's log has it at info, no warning.
/// </summary>
public class PeerNotFoundLogTests
{
    [Test, CancelAfter(120_000)]
    public async Task A_peer_without_the_jobs_directory_answers_NotFound_without_a_warning(CancellationToken ct)
    {
        await using var a = new PeerServer("server-a");
        await using var b = new PeerServer("server-b");
        File.WriteAllBytes(a.Image, new byte[1 << 20]);
        a.WriteConfig(runsJob: true, peer: b, keep: 3);
        b.WriteConfig(runsJob: false, peer: a, keep: 3);
        await a.StartAsync(ct);
        await b.StartAsync(ct);

        await a.RunJobAsync(ct);

        var touch = b.Log.Split('\n').Where(l => l.Contains("TouchDeadBackup")).ToList();
        Assert.That(touch, Has.Some.Contains("NotFound"), b.Log);
        Assert.That(touch, Has.None.Contains(" warn "), "NotFound is the normal answer, not a warning");
        Assert.That(a.Log.Split('\n').Where(l => l.Contains(" warn ") && l.Contains("server-b")), Is.Empty, "nor on the asking side");
    }
}
