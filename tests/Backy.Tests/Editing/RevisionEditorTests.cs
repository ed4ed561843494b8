using Backy.Storage;
using Backy.Storage.Editing;
using Backy.Storage.Locks;
using Backy.Storage.Revisions;
using Backy.Tests.Schedules;
using Microsoft.Extensions.Logging.Abstractions;

namespace Backy.Tests.Editing;

public class RevisionEditorTests
{
    private static readonly DateTimeOffset Now = JobFixture.Now;
    private JobFixture _f = null!;
    private RevisionEditor _editor = null!;

    [SetUp]
    public void SetUp()
    {
        _f = new JobFixture();
        _editor = new RevisionEditor(_f.Job, new FakeClock(Now), NullLogger.Instance);
    }

    [TearDown]
    public void TearDown() => _f.Dispose();

    private static HashSet<string> Set(params string[] tags) => tags.ToHashSet(StringComparer.Ordinal);

    // distrust

    [Test]
    public void Distrust_without_options_distrusts_every_complete_local_revision()
    {
        var a = _f.Add(Now.AddDays(-2), "daily");
        var b = _f.Add(Now.AddDays(-1), "daily", trust: Trust.Verified);
        var incomplete = _f.Add(Now, "daily", complete: false);
        var peer = _f.Add(Now.AddDays(-3), "daily", server: "backup02");

        _editor.Distrust(DateRange.All);

        Assert.That(new[] { a, b, incomplete, peer }.Select(r => _f.Reload(r).Trust),
            Is.EqualTo(new[] { Trust.Distrusted, Trust.Distrusted, Trust.Trusted, Trust.Trusted }));
    }

    [Test]
    public void Distrust_by_date_range_includes_both_end_days()
    {
        var before = _f.Add(new DateTimeOffset(2015, 11, 1, 23, 59, 59, TimeSpan.Zero), "daily");
        var first = _f.Add(new DateTimeOffset(2015, 11, 2, 0, 0, 0, TimeSpan.Zero), "daily");
        var last = _f.Add(new DateTimeOffset(2015, 11, 3, 23, 59, 59, TimeSpan.Zero), "daily");
        var after = _f.Add(new DateTimeOffset(2015, 11, 4, 0, 0, 0, TimeSpan.Zero), "daily");

        _editor.Distrust(DateRange.Parse("2015-11-02", "2015-11-03"));

        Assert.That(new[] { before, first, last, after }.Select(r => _f.Reload(r).Trust),
            Is.EqualTo(new[] { Trust.Trusted, Trust.Distrusted, Trust.Distrusted, Trust.Trusted }));
    }

    [Test]
    public void Distrust_with_only_from_or_only_until_is_open_ended()
    {
        var old = _f.Add(Now.AddDays(-10), "daily");
        var recent = _f.Add(Now, "daily");
        _editor.Distrust(DateRange.Parse(null, Now.AddDays(-5).ToString("yyyy-MM-dd")));
        Assert.That((_f.Reload(old).Trust, _f.Reload(recent).Trust), Is.EqualTo((Trust.Distrusted, Trust.Trusted)));
    }

    [Test]
    public void Distrust_by_revision_distrusts_only_that_one()
    {
        var a = _f.Add(Now.AddDays(-1), "daily");
        var b = _f.Add(Now, "weekly");
        _editor.Distrust("weekly");
        Assert.That((_f.Reload(a).Trust, _f.Reload(b).Trust), Is.EqualTo((Trust.Trusted, Trust.Distrusted)));
    }

    [Test]
    public void Distrust_of_a_peer_revision_is_refused()
    {
        var peer = _f.Add(Now, "daily", server: "backup02");
        var e = Assert.Throws<BackyException>(() => _editor.Distrust(peer.Id));
        Assert.That(e!.Message, Does.Contain("peer 'backup02'"));
        Assert.That(_f.Reload(peer).Trust, Is.EqualTo(Trust.Trusted));
    }

    [TestCase("yesterday")]
    [TestCase("2015-13-01")]
    [TestCase("01.11.2015")]
    public void An_invalid_date_is_an_error_that_names_it(string text)
    {
        var e = Assert.Throws<BackyException>(() => DateRange.Parse(text, null));
        Assert.That(e!.Message, Does.StartWith($"invalid date '{text}' for --from"));
    }

    [TestCase("2015-11-02T10:00:00Z", "2015-11-02T10:00:00Z")]
    [TestCase("2015-11-02T12:00:00+02:00", "2015-11-02T10:00:00Z")]
    [TestCase("2015-11-02 10:00", "2015-11-02T10:00:00Z")]
    public void Times_are_instants_and_times_without_offset_are_utc(string text, string expected) =>
        Assert.That(DateRange.Parse(text, null).From, Is.EqualTo(DateTimeOffset.Parse(expected)));

    [Test]
    public void An_until_time_is_inclusive()
    {
        var range = DateRange.Parse(null, "2015-11-02T10:00:00Z");
        Assert.That((range.Contains(DateTimeOffset.Parse("2015-11-02T10:00:00Z")), range.Contains(DateTimeOffset.Parse("2015-11-02T10:00:01Z"))),
            Is.EqualTo((true, false)));
    }

    [Test]
    public void A_range_that_ends_before_it_starts_is_an_error() =>
        Assert.That(() => DateRange.Parse("2015-11-05", "2015-11-04"), Throws.InstanceOf<BackyException>().With.Message.Contains("empty date range"));

    // forget

    [Test]
    public void Forget_removes_the_revision_and_its_chunk_map()
    {
        var keep = _f.Add(Now.AddDays(-1), "daily");
        var gone = _f.Add(Now, "daily");
        _editor.Forget("0");
        Assert.That((_f.Exists(keep), _f.Exists(gone), File.Exists(_f.Job.ChunkMapPath(gone.Id))), Is.EqualTo((true, false, false)));
    }

    [Test]
    public void Forget_of_a_peer_revision_keeps_it_without_tags_for_peer_sync()
    {
        var peer = _f.Add(Now, "daily", server: "backup02");
        _editor.Forget(peer.Id);
        var r = _f.Reload(peer);
        Assert.That((r.Tags.Count, r.OrigTags), Is.EqualTo((0, new SortedSet<string> { "daily" })));
    }

    [TestCase("nosuchrevision")]
    [TestCase("7")]
    public void An_invalid_revision_spec_is_an_error_that_names_the_spec(string spec)
    {
        var r = _f.Add(Now, "daily");
        var e = Assert.Throws<BackyException>(() => _editor.Forget(spec));
        Assert.That(e!.Message, Does.Contain($"'{spec}'"));
        Assert.That(_f.Exists(r), Is.True);
    }

    // tags

    [Test]
    public void Tags_set_add_and_remove_change_the_tags()
    {
        var r = _f.Add(Now, "daily");
        _editor.EditTags(TagAction.Add, r.Id, Set("weekly", "manual:x"));
        Assert.That(_f.Reload(r).Tags, Is.EqualTo(new[] { "daily", "manual:x", "weekly" }));
        _editor.EditTags(TagAction.Remove, r.Id, Set("daily"));
        Assert.That(_f.Reload(r).Tags, Is.EqualTo(new[] { "manual:x", "weekly" }));
        _editor.EditTags(TagAction.Set, r.Id, Set("daily"));
        Assert.That(_f.Reload(r).Tags, Is.EqualTo(new[] { "daily" }));
    }

    [Test]
    public void Unknown_tags_are_refused_without_force_and_nothing_changes()
    {
        var r = _f.Add(Now, "daily");
        var e = Assert.Throws<BackyException>(() => _editor.EditTags(TagAction.Add, r.Id, Set("hourly")));
        Assert.That(e!.Message, Does.StartWith("unknown tag 'hourly'"));
        Assert.That(_f.Reload(r).Tags, Is.EqualTo(new[] { "daily" }));
    }

    [Test]
    public void Force_accepts_unknown_tags()
    {
        var r = _f.Add(Now, "daily");
        _editor.EditTags(TagAction.Set, r.Id, Set("hourly"), force: true);
        Assert.That(_f.Reload(r).Tags, Is.EqualTo(new[] { "hourly" }));
    }

    [Test]
    public void Removing_an_unknown_tag_needs_no_force()
    {
        var r = _f.Add(Now, "daily,oldtag");
        _editor.EditTags(TagAction.Remove, r.Id, Set("oldtag"));
        Assert.That(_f.Reload(r).Tags, Is.EqualTo(new[] { "daily" }));
    }

    [Test]
    public void Expect_that_differs_changes_nothing()
    {
        var r = _f.Add(Now, "daily,weekly");
        Assert.Throws<TagExpectationException>(() => _editor.EditTags(TagAction.Set, r.Id, Set("daily"), expect: Set("daily")));
        Assert.That(_f.Reload(r).Tags, Is.EqualTo(new[] { "daily", "weekly" }));
        _editor.EditTags(TagAction.Set, r.Id, Set("daily"), expect: Set("weekly", "daily"));
        Assert.That(_f.Reload(r).Tags, Is.EqualTo(new[] { "daily" }));
    }

    [Test]
    public void Autoremove_deletes_a_revision_left_without_tags()
    {
        var r = _f.Add(Now, "daily");
        var change = _editor.EditTags(TagAction.Remove, r.Id, Set("daily"), autoremove: true);
        Assert.That((change.Removed, _f.Exists(r)), Is.EqualTo((true, false)));
    }

    [Test]
    public void Without_autoremove_a_revision_without_tags_stays_until_expire()
    {
        var r = _f.Add(Now, "daily");
        _editor.EditTags(TagAction.Set, r.Id, Set());
        Assert.That((_f.Exists(r), _f.Reload(r).Tags.Count), Is.EqualTo((true, 0)));
        _editor.Expire();
        Assert.That(_f.Exists(r), Is.False);
    }

    // expire

    [Test]
    public void Expire_removes_expired_tags_and_deletes_revisions_without_tags()
    {
        var oldDaily = _f.Add(Now.AddDays(-10), "daily");
        var oldBoth = _f.Add(Now.AddDays(-9), "daily,weekly,manual:keep,former");
        _f.Add(Now.AddDays(-1), "daily");
        _f.Add(Now, "daily");

        var result = _editor.Expire();

        Assert.That(_f.Exists(oldDaily), Is.False);
        Assert.That(File.Exists(_f.Job.ChunkMapPath(oldDaily.Id)), Is.False);
        Assert.That(_f.Reload(oldBoth).Tags, Is.EqualTo(new[] { "manual:keep", "weekly" }));
        Assert.That(result.Deleted, Is.EqualTo(new[] { oldDaily.Id }));
    }

    [Test]
    public void Expire_keeps_peer_revisions_in_the_computation_and_marks_them_instead_of_deleting()
    {
        var peerOld = _f.Add(Now.AddDays(-10), "daily", server: "backup02");
        _f.Add(Now.AddDays(-1), "daily");
        _f.Add(Now, "daily");
        _editor.Expire();
        Assert.That((_f.Exists(peerOld), _f.Reload(peerOld).Tags.Count), Is.EqualTo((true, 0)));
    }

    [Test]
    public void Expire_without_a_schedule_is_refused_and_deletes_nothing()
    {
        using var f = new JobFixture(scheduleYaml: "");
        var r = f.Add(Now.AddDays(-100), "daily");
        var editor = new RevisionEditor(f.Job, new FakeClock(Now), NullLogger.Instance);
        Assert.That(() => editor.Expire(), Throws.InstanceOf<ConfigException>().With.Message.Contains("no schedule"));
        Assert.That(f.Exists(r), Is.True);
    }

    // locking

    [Test]
    public void Every_edit_fails_at_once_while_the_backup_lock_is_held()
    {
        var r = _f.Add(Now, "daily");
        using var held = JobLocks.AcquireBackup(_f.Job.Path, "test");
        Assert.Multiple(() =>
        {
            Assert.That(() => _editor.Forget(r.Id), Throws.InstanceOf<BackyException>().With.Message.Contains("lock"));
            Assert.That(() => _editor.Distrust(DateRange.All), Throws.InstanceOf<BackyException>().With.Message.Contains("lock"));
            Assert.That(() => _editor.EditTags(TagAction.Set, r.Id, Set("weekly")), Throws.InstanceOf<BackyException>().With.Message.Contains("lock"));
            Assert.That(() => _editor.Expire(), Throws.InstanceOf<BackyException>().With.Message.Contains("lock"));
        });
        Assert.That(_f.Exists(r), Is.True);
    }
}
