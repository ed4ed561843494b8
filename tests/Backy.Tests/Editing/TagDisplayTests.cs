using Backy.Storage.Editing;
using Backy.Storage.Revisions;
using Backy.Storage.Schedules;

namespace Backy.Tests.Editing;

public class TagDisplayTests
{
    private static readonly Schedule Schedule = new([
        new ScheduleInterval("daily", TimeSpan.FromDays(1), 7),
        new ScheduleInterval("weekly", TimeSpan.FromDays(7), 4),
        new ScheduleInterval("monthly", TimeSpan.FromDays(28), 3),
    ]);

    private static Revision Rev(string tags, string origTags, string server) => new()
    {
        Id = RevisionId.New(),
        Timestamp = DateTimeOffset.UnixEpoch,
        Tags = new SortedSet<string>(TagSet.Parse(tags), StringComparer.Ordinal),
        OrigTags = new SortedSet<string>(TagSet.Parse(origTags), StringComparer.Ordinal),
        Server = server,
    };

    [Test]
    public void Local_revisions_show_their_tags_sorted_by_interval() =>
        Assert.That(TagDisplay.Format(Rev("weekly,daily,manual:x", "", ""), Schedule), Is.EqualTo("daily,weekly,manual:x"));

    [Test]
    public void Peer_revision_with_pending_changes_shows_added_and_removed_tags()
    {
        var r = Rev("daily,weekly", "daily,monthly", "backup02");
        Assert.That(TagDisplay.Format(r, Schedule), Is.EqualTo("daily,+weekly,-monthly"));
        Assert.That(TagDisplay.HasPendingChanges(r), Is.True);
    }

    [Test]
    public void Peer_revision_pending_removal_shows_only_removed_tags() =>
        Assert.That(TagDisplay.Format(Rev("", "daily,weekly", "backup02"), Schedule), Is.EqualTo("-daily,-weekly"));

    [Test]
    public void Peer_revision_in_sync_shows_plain_tags()
    {
        var r = Rev("weekly,daily", "daily,weekly", "backup02");
        Assert.That((TagDisplay.Format(r, Schedule), TagDisplay.HasPendingChanges(r)), Is.EqualTo(("daily,weekly", false)));
    }
}
