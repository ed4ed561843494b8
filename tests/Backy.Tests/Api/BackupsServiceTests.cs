using Backy.Protocol.V1;
using Backy.Storage.Jobs;
using Backy.Storage.Revisions;
using Revision = Backy.Storage.Revisions.Revision;
using Trust = Backy.Storage.Revisions.Trust;
using Grpc.Core;

namespace Backy.Tests.Api;

[CancelAfter(30_000)]
public class BackupsServiceTests
{
    private static readonly DateTimeOffset T0 = new(2026, 8, 1, 12, 0, 0, TimeSpan.Zero);

    [Test]
    public async Task Dead_backups_are_directories_without_a_job(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        foreach (var dir in new[] { "alpha", "moved-away", "old-vm", ".hidden" })
            Directory.CreateDirectory(Path.Join(api.BaseDir, dir));
        File.CreateSymbolicLink(Path.Join(api.BaseDir, "link"), "/tmp");
        File.WriteAllText(Path.Join(api.BaseDir, "a-file"), "");

        var all = await api.BackupsClient().ListDeadBackupsAsync(new ListDeadBackupsRequest(), ApiHarness.Auth().WithCancellationToken(ct));
        var filtered = await api.BackupsClient().ListDeadBackupsAsync(new ListDeadBackupsRequest { Filter = "^old" }, ApiHarness.Auth().WithCancellationToken(ct));

        Assert.That(all.Names, Is.EqualTo(new[] { "moved-away", "old-vm" }));
        Assert.That(filtered.Names, Is.EqualTo(new[] { "old-vm" }));
    }

    [Test]
    public async Task Revisions_of_a_dead_backup_are_its_complete_local_ones_oldest_first(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        var dead = new JobDirectory(Path.Join(api.BaseDir, "moved"));
        Directory.CreateDirectory(dead.Path);
        var newer = JobsServiceTests.Rev(T0.AddDays(1), ["daily"]);
        var older = JobsServiceTests.Rev(T0, ["daily", "weekly"]);
        older.Trust = Trust.Verified;
        older.Parent = "";
        var incomplete = JobsServiceTests.Rev(T0.AddDays(2), ["daily"]);
        incomplete.Duration = null;
        incomplete.BytesWritten = 0; // what an unfinished backup writes; with stats but no duration it is damaged
        foreach (var r in new[] { newer, older, incomplete, JobsServiceTests.Rev(T0, ["daily"], server: "elsewhere") })
            dead.WriteRevision(r);

        var reply = await api.BackupsClient().ListRevisionsAsync(new ListRevisionsRequest { Backup = "moved" }, ApiHarness.Auth().WithCancellationToken(ct));
        var withIncomplete = await api.BackupsClient().ListRevisionsAsync(
            new ListRevisionsRequest { Backup = "moved", IncludeIncomplete = true }, ApiHarness.Auth().WithCancellationToken(ct));

        Assert.That(reply.Revisions.Select(r => r.Uuid), Is.EqualTo(new[] { older.Id, newer.Id }));
        var first = reply.Revisions[0];
        Assert.Multiple(() =>
        {
            Assert.That(first.Timestamp.ToDateTimeOffset(), Is.EqualTo(T0));
            Assert.That(first.Tags, Is.EqualTo(new[] { "daily", "weekly" }));
            Assert.That(first.OrigTags, Is.EqualTo(new[] { "daily", "weekly" }));
            Assert.That(first.Trust, Is.EqualTo(Backy.Protocol.V1.Trust.Verified));
            Assert.That(first.Server, Is.Empty);
            Assert.That(first.Stats.BytesWritten, Is.EqualTo(4096));
            Assert.That(first.Stats.Duration.ToTimeSpan(), Is.EqualTo(TimeSpan.FromSeconds(12.5)));
        });
        Assert.That(withIncomplete.Revisions.Select(r => r.Uuid), Is.EqualTo(new[] { older.Id, newer.Id, incomplete.Id }));
    }

    [Test]
    public async Task Set_tags_with_matching_old_tags_rewrites_the_revision(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        var (dead, rev) = DeadBackupWithRevision(api, ["daily", "weekly"]);

        var reply = await api.BackupsClient().SetRevisionTagsAsync(
            Tags("moved", rev.Id, old: ["weekly", "daily"], @new: ["weekly"], autoremove: true), ApiHarness.Auth().WithCancellationToken(ct));

        Assert.That(reply.Removed, Is.False);
        Assert.That(dead.LoadRevision(rev.Id).Tags, Is.EqualTo(new[] { "weekly" }));
    }

    [Test]
    public async Task Set_tags_with_stale_old_tags_fails_the_precondition_and_changes_nothing(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        var (dead, rev) = DeadBackupWithRevision(api, ["daily", "weekly"]);

        var e = await ApiHarness.Refusal(async () => await api.BackupsClient().SetRevisionTagsAsync(
            Tags("moved", rev.Id, old: ["daily"], @new: []), ApiHarness.Auth().WithCancellationToken(ct)));

        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
        Assert.That(dead.LoadRevision(rev.Id).Tags, Is.EqualTo(new[] { "daily", "weekly" }));
    }

    [Test]
    public async Task Set_tags_to_none_with_autoremove_deletes_the_revision(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        var (dead, rev) = DeadBackupWithRevision(api, ["daily"]);

        var reply = await api.BackupsClient().SetRevisionTagsAsync(
            Tags("moved", rev.Id, old: ["daily"], @new: [], autoremove: true), ApiHarness.Auth().WithCancellationToken(ct));

        Assert.That(reply.Removed, Is.True);
        Assert.That(dead.LoadRevisions(), Is.Empty);
    }

    [Test]
    public async Task Set_tags_while_the_backup_is_locked_is_Unavailable_and_changes_nothing(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        var (dead, rev) = DeadBackupWithRevision(api, ["daily"]);
        using var held = Backy.Storage.Locks.JobLocks.AcquireBackup(dead.Path, "hold");

        var e = await ApiHarness.Refusal(async () => await api.BackupsClient().SetRevisionTagsAsync(
            Tags("moved", rev.Id, old: ["daily"], @new: [], autoremove: true), ApiHarness.Auth().WithCancellationToken(ct)));

        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(dead.LoadRevision(rev.Id).Tags, Is.EqualTo(new[] { "daily" }));
    }

    [Test]
    public async Task Set_tags_of_an_unknown_revision_is_NotFound(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        DeadBackupWithRevision(api, ["daily"]);

        var e = await ApiHarness.Refusal(async () => await api.BackupsClient().SetRevisionTagsAsync(
            Tags("moved", RevisionId.New(), old: ["daily"], @new: []), ApiHarness.Auth().WithCancellationToken(ct)));

        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.NotFound));
    }

    [Test]
    public async Task Purge_marks_the_directory_purge_pending_and_touch_renews_its_age(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        var path = Path.Join(api.BaseDir, "moved");
        Directory.CreateDirectory(path);
        Directory.SetLastWriteTimeUtc(path, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));

        await api.BackupsClient().TouchDeadBackupAsync(new TouchDeadBackupRequest { Backup = "moved" }, ApiHarness.Auth().WithCancellationToken(ct));
        var touched = Directory.GetLastWriteTimeUtc(path);
        await api.BackupsClient().PurgeDeadBackupAsync(new PurgeDeadBackupRequest { Backup = "moved" }, ApiHarness.Auth().WithCancellationToken(ct));

        Assert.That(touched, Is.GreaterThan(DateTime.UtcNow.AddHours(-1)));
        Assert.That(File.Exists(Path.Join(path, ".purge_pending")), Is.True);
    }

    [TestCase("../etc", StatusCode.InvalidArgument)]
    [TestCase("..", StatusCode.InvalidArgument)]
    [TestCase("a/b", StatusCode.InvalidArgument)]
    [TestCase("/etc", StatusCode.InvalidArgument)]
    [TestCase("moved\0x", StatusCode.InvalidArgument)]
    [TestCase("", StatusCode.InvalidArgument)]
    [TestCase(".hidden", StatusCode.InvalidArgument)]
    [TestCase("escape", StatusCode.PermissionDenied)]
    [TestCase("alias", StatusCode.PermissionDenied)]
    [TestCase("alpha", StatusCode.PermissionDenied)]
    [TestCase("nothing-here", StatusCode.NotFound)]
    public async Task Names_from_the_network_stay_inside_base_dir_and_off_active_jobs(string name, StatusCode expected, CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        var outside = Path.Join(api.Root, "outside");
        Directory.CreateDirectory(outside);
        Directory.CreateDirectory(Path.Join(api.BaseDir, "alpha"));
        Directory.CreateDirectory(Path.Join(api.BaseDir, "moved"));
        Directory.CreateSymbolicLink(Path.Join(api.BaseDir, "escape"), outside);
        Directory.CreateSymbolicLink(Path.Join(api.BaseDir, "alias"), Path.Join(api.BaseDir, "alpha"));
        var client = api.BackupsClient();

        var calls = new Func<Task>[]
        {
            async () => await client.PurgeDeadBackupAsync(new PurgeDeadBackupRequest { Backup = name }, ApiHarness.Auth().WithCancellationToken(ct)),
            async () => await client.TouchDeadBackupAsync(new TouchDeadBackupRequest { Backup = name }, ApiHarness.Auth().WithCancellationToken(ct)),
            async () => await client.ListRevisionsAsync(new ListRevisionsRequest { Backup = name }, ApiHarness.Auth().WithCancellationToken(ct)),
            async () => await client.SetRevisionTagsAsync(Tags(name, RevisionId.New(), [], []), ApiHarness.Auth().WithCancellationToken(ct)),
        };

        foreach (var call in calls)
            Assert.That((await ApiHarness.Refusal(call)).StatusCode, Is.EqualTo(expected));
        Assert.That(Directory.EnumerateFileSystemEntries(outside), Is.Empty);
        Assert.That(File.Exists(Path.Join(api.BaseDir, "alpha", ".purge_pending")), Is.False);
    }

    [Test]
    public async Task Set_tags_needs_a_revision_id_not_a_path(CancellationToken ct)
    {
        await using var api = await ApiHarness.StartAsync();
        DeadBackupWithRevision(api, ["daily"]);

        var e = await ApiHarness.Refusal(async () => await api.BackupsClient().SetRevisionTagsAsync(
            Tags("moved", "../../alpha/x", [], []), ApiHarness.Auth().WithCancellationToken(ct)));

        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
    }

    private static (JobDirectory Dir, Revision Rev) DeadBackupWithRevision(ApiHarness api, string[] tags)
    {
        var dead = new JobDirectory(Path.Join(api.BaseDir, "moved"));
        Directory.CreateDirectory(dead.Path);
        var rev = JobsServiceTests.Rev(T0, tags);
        dead.WriteRevision(rev);
        return (dead, rev);
    }

    private static SetRevisionTagsRequest Tags(string backup, string revision, string[] old, string[] @new, bool autoremove = false)
    {
        var request = new SetRevisionTagsRequest { Backup = backup, Revision = revision, Autoremove = autoremove };
        request.OldTags.AddRange(old);
        request.NewTags.AddRange(@new);
        return request;
    }
}
