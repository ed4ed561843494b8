using Backy.Tests.Editing;
using static Backy.Tests.Editing.CommandRunner;

namespace Backy.Tests.Peers;

/// <summary>A peer revision is metadata here; its data is on the peer. restore, verify and purge
/// must neither look for it nor fail over its absence.</summary>
[CancelAfter(30_000)]
public class PeerRevisionDataTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private JobFixture _f = null!;

    [SetUp]
    public void SetUp() => _f = new JobFixture();

    [TearDown]
    public void TearDown() => _f.Dispose();

    [TestCase("restore", "-")]
    [TestCase("verify")]
    public async Task Restoring_or_verifying_a_peer_revision_names_the_server_that_holds_it(string command, params string[] rest)
    {
        var peer = _f.Add(Now, "daily", server: "backup02");

        var result = await InProcessAsync(["-b", _f.Job.Path, command, "-r", peer.Id, .. rest]);

        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(result.Err, Does.Contain(peer.Id).And.Contain("server 'backup02'"), result.ToString());
        Assert.That(_f.Exists(peer), Is.True);
    }

    [Test]
    public async Task Purge_keeps_peer_revisions_although_they_have_no_chunk_map()
    {
        var peer = _f.Add(Now, "daily", server: "backup02");

        var result = await InProcessAsync(["-b", _f.Job.Path, "purge"]);

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That((_f.Exists(peer), _f.Job.HasChunkMap(peer.Id)), Is.EqualTo((true, false)));
    }
}
