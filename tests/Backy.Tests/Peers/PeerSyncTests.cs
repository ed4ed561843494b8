using Backy.Daemon.Config;
using Backy.Daemon.Peers;
using Backy.Storage.Editing;
using Backy.Storage.Jobs;
using Backy.Storage.Revisions;
using Backy.Tests.Api;
using Backy.Tests.Schedules;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Backy.Tests.Peers;

/// <summary>
/// Server migration: job "moved" left revisions on server A (a real API server on loopback over
/// its own base directory) and now runs here on B (a job directory with a schedule). The sync
/// talks real gRPC to A; expire and tag edits on B are the real Storage editors.
/// </summary>
[CancelAfter(30_000)]
public class PeerSyncTests
{
    private const string Job = "moved";
    private const string PeerName = "server-a";
    private static readonly DateTimeOffset Now = new(2026, 8, 10, 12, 0, 0, TimeSpan.Zero);

    private ApiHarness _a = null!;
    private JobDirectory _onA = null!;
    private JobDirectory _onB = null!;
    private CapturingLoggerProvider _log = null!;
    private ILoggerFactory _logs = null!;
    private PeerSync _sync = null!;
    private Revision _old = null!, _recent = null!, _newest = null!;

    [SetUp]
    public async Task SetUp()
    {
        _a = await ApiHarness.StartAsync();
        _onA = new JobDirectory(Path.Join(_a.BaseDir, Job));
        Directory.CreateDirectory(_onA.Path);
        _old = Rev(Now.AddDays(-10), "daily");
        _recent = Rev(Now.AddDays(-1), "daily");
        _newest = Rev(Now, "daily");
        foreach (var r in new[] { _old, _recent, _newest })
        {
            _onA.WriteRevision(r);
            File.WriteAllBytes(_onA.ChunkMapPath(r.Id), [1, 2, 3]);
        }
        var bDir = Path.Join(_a.Root, "server-b", Job);
        Directory.CreateDirectory(bDir);
        _onB = new JobDirectory(bDir);
        File.WriteAllText(_onB.ConfigPath, "source:\n  type: file\n  filename: /dev/null\nschedule:\n  daily: {interval: 1d, keep: 2}\n");
        _log = new CapturingLoggerProvider();
        _logs = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(_log));
        _sync = new PeerSync(_logs.CreateLogger<PeerSync>());
    }

    [TearDown]
    public async Task TearDown()
    {
        _logs.Dispose();
        await _a.DisposeAsync();
    }

    [Test]
    public async Task Pull_stores_the_peers_revisions_as_metadata_marked_with_the_peer_and_touches_the_directory_there(CancellationToken ct)
    {
        var longAgo = DateTime.UtcNow.AddDays(-60);
        Directory.SetLastWriteTimeUtc(_onA.Path, longAgo);

        await _sync.PullAsync(Job, _onB.Path, Peers(), "t-pull", ct);

        var onB = _onB.LoadRevisions();
        Assert.That(onB.Select(r => r.Id), Is.EqualTo(new[] { _old.Id, _recent.Id, _newest.Id }));
        Assert.Multiple(() =>
        {
            Assert.That(onB.Select(r => r.Server).Distinct(), Is.EqualTo(new[] { PeerName }));
            Assert.That(onB.All(r => r.OrigTags.SetEquals(["daily"]) && r.Tags.SetEquals(["daily"])), Is.True);
            Assert.That(onB.Any(r => _onB.HasChunkMap(r.Id)), Is.False, "no chunk map for peer revisions");
            Assert.That(onB[0].Timestamp, Is.EqualTo(_old.Timestamp));
            Assert.That(Directory.GetLastWriteTimeUtc(_onA.Path), Is.GreaterThan(longAgo.AddDays(1)));
        });
    }

    [Test]
    public async Task Expire_here_and_push_removes_the_untagged_revision_on_the_peer_and_asks_it_to_purge(CancellationToken ct)
    {
        await _sync.PullAsync(Job, _onB.Path, Peers(), "t", ct);
        Editor().Expire();
        Editor().EditTags(TagAction.Add, _recent.Id, new HashSet<string> { "manual:keep" });
        Assert.That(_onB.LoadRevision(_old.Id).Tags, Is.Empty, "expire leaves the peer revision pending removal");

        await _sync.PushAsync(Job, _onB.Path, Peers(), "t", ct);

        Assert.Multiple(() =>
        {
            Assert.That(File.Exists(_onA.RevisionPath(_old.Id)), Is.False, "removed on A");
            Assert.That(File.Exists(Path.Join(_onA.Path, ".purge_pending")), Is.True, "A purges its chunks");
            Assert.That(_onA.LoadRevision(_recent.Id).Tags, Is.EqualTo(new[] { "daily", "manual:keep" }));
            Assert.That(_onA.LoadRevision(_newest.Id).Tags, Is.EqualTo(new[] { "daily" }));
            Assert.That(File.Exists(_onB.RevisionPath(_old.Id)), Is.False, "dropped here once A removed it");
            Assert.That(_onB.LoadRevision(_recent.Id).OrigTags, Is.EqualTo(new[] { "daily", "manual:keep" }), "synced");
        });
    }

    [Test]
    public async Task A_peer_that_is_down_loses_nothing_and_the_sync_completes_at_the_next_run(CancellationToken ct)
    {
        await _sync.PullAsync(Job, _onB.Path, Peers(), "t", ct);
        Editor().Expire();
        var down = Peers(new Uri($"http://127.0.0.1:{ApiHarness.FreePort()}"));

        await _sync.PullAsync(Job, _onB.Path, down, "t", ct);
        await _sync.PushAsync(Job, _onB.Path, down, "t", ct);

        Assert.Multiple(() =>
        {
            Assert.That(_onB.LoadRevisions().Select(r => r.Id), Is.EqualTo(new[] { _old.Id, _recent.Id, _newest.Id }), "nothing dropped here");
            Assert.That(_onB.LoadRevision(_old.Id).Tags, Is.Empty, "the change is still pending");
            Assert.That(File.Exists(_onA.RevisionPath(_old.Id)), Is.True);
            Assert.That(_log.Lines, Has.Some.Contains("retried at the next run").And.Contains(PeerName));
        });

        await _sync.PullAsync(Job, _onB.Path, Peers(), "t", ct);
        Assert.That(_onB.LoadRevision(_old.Id).Tags, Is.Empty, "a pull keeps changes the peer has not seen");
        await _sync.PushAsync(Job, _onB.Path, Peers(), "t", ct);

        Assert.That(File.Exists(_onA.RevisionPath(_old.Id)), Is.False);
        Assert.That(File.Exists(_onB.RevisionPath(_old.Id)), Is.False);
    }

    [Test]
    public async Task A_token_the_peer_refuses_is_an_authentication_failure_that_names_the_peer_and_the_setting(CancellationToken ct)
    {
        var wrongToken = new Dictionary<string, PeerConfig> { [PeerName] = new(PeerName, _a.Url, "not-a-token-of-a") };

        await _sync.PullAsync(Job, _onB.Path, wrongToken, "t", ct);

        Assert.That(_onB.LoadRevisions(), Is.Empty);
        Assert.That(_log.Lines, Has.Some.StartsWith("Warning").And.Contains("pull with peer server-a").And.Contains("authentication failed")
            .And.Contains("peers.server-a.token"));
    }

    [Test]
    public async Task Tags_changed_on_the_peer_meanwhile_fail_the_precondition_and_the_next_pull_takes_the_peers_tags(CancellationToken ct)
    {
        await _sync.PullAsync(Job, _onB.Path, Peers(), "t", ct);
        Editor().Expire();
        var changedOnA = _onA.LoadRevision(_old.Id);
        changedOnA.Tags = new SortedSet<string>(["daily", "manual:hold"], StringComparer.Ordinal);
        _onA.WriteRevision(changedOnA);

        await _sync.PushAsync(Job, _onB.Path, Peers(), "t", ct);

        Assert.Multiple(() =>
        {
            Assert.That(_onA.LoadRevision(_old.Id).Tags, Is.EqualTo(new[] { "daily", "manual:hold" }), "A's change stands");
            Assert.That(File.Exists(Path.Join(_onA.Path, ".purge_pending")), Is.False);
            Assert.That(_log.Lines, Has.Some.Contains("changed there meanwhile").And.Contains(_old.Id));
        });

        await _sync.PullAsync(Job, _onB.Path, Peers(), "t", ct);

        var again = _onB.LoadRevision(_old.Id);
        Assert.That((again.Tags, again.OrigTags), Is.EqualTo((new SortedSet<string> { "daily", "manual:hold" }, new SortedSet<string> { "daily", "manual:hold" })));
    }

    [Test]
    public async Task Revisions_gone_on_the_peer_and_revisions_of_unconfigured_peers_are_dropped_here(CancellationToken ct)
    {
        await _sync.PullAsync(Job, _onB.Path, Peers(), "t", ct);
        _onA.RemoveRevision(_newest.Id);
        var orphan = Rev(Now, "daily", server: "decommissioned");
        _onB.WriteRevision(orphan);
        var local = Rev(Now, "daily");
        _onB.WriteRevision(local);

        await _sync.PullAsync(Job, _onB.Path, Peers(), "t", ct);

        Assert.That(_onB.LoadRevisions().Select(r => r.Id), Is.EquivalentTo(new[] { _old.Id, _recent.Id, local.Id }));
    }

    [Test]
    public async Task A_job_active_on_the_peer_or_unknown_there_offers_nothing_and_is_no_error(CancellationToken ct)
    {
        var active = new JobDirectory(Path.Join(_a.BaseDir, "alpha"));
        Directory.CreateDirectory(active.Path);
        active.WriteRevision(Rev(Now, "daily"));

        await _sync.PullAsync("alpha", _onB.Path, Peers(), "t", ct);
        await _sync.PullAsync("nowhere", _onB.Path, Peers(), "t", ct);

        Assert.That(_onB.LoadRevisions(), Is.Empty);
        Assert.That(_log.Lines, Has.None.StartsWith("Warning"));
    }

    [Test]
    public async Task A_revision_id_that_is_a_path_is_refused_and_writes_nothing_outside(CancellationToken ct)
    {
        var evil = Rev(Now, "daily");
        File.WriteAllText(Path.Join(_onA.Path, "x.rev"), RevisionFile.Serialize(evil).Replace(evil.Id, "../../escaped"));

        await _sync.PullAsync(Job, _onB.Path, Peers(), "t", ct);

        Assert.That(Directory.EnumerateFiles(_a.Root, "escaped*", SearchOption.AllDirectories), Is.Empty);
        Assert.That(_onB.LoadRevisions().Select(r => r.Id), Is.EqualTo(new[] { _old.Id, _recent.Id, _newest.Id }));
        // Our peer does not even offer it: a .rev whose uuid is not its file name is damaged there. A hostile peer
        // could still send such an id; the merge refuses it.
        Assert.That(_onA.ScanRevisions().Damaged.Select(d => d.Id), Is.EqualTo(new[] { "x" }));
        evil = Rev(Now, "daily");
        var hostile = new Revision { Id = "../../escaped", Timestamp = evil.Timestamp, Tags = evil.Tags, OrigTags = evil.OrigTags, Duration = 1 };
        var merged = PeerRevisions.Merge(_onB, PeerName, [hostile]);
        Assert.That(merged.Refused, Is.EqualTo(new[] { "../../escaped" }));
        Assert.That(Directory.EnumerateFiles(_a.Root, "escaped*", SearchOption.AllDirectories), Is.Empty);
    }

    private IReadOnlyDictionary<string, PeerConfig> Peers(Uri? url = null) =>
        new Dictionary<string, PeerConfig> { [PeerName] = new(PeerName, url ?? _a.Url, ApiHarness.Token) };

    private RevisionEditor Editor() => new(_onB, new FakeClock(Now), NullLogger.Instance);

    private static Revision Rev(DateTimeOffset at, string tags, string server = "") => JobsServiceTests.Rev(at, tags.Split(','), server);
}
