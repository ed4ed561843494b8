using Backy.Storage.Revisions;
using Backy.Storage.Schedules;

namespace Backy.Storage.Editing;

/// <summary>
/// How status shows a revision's tags: sorted by interval, and for a peer revision whose tags
/// were changed here but not yet pushed to the peer, the difference to the peer's tags
/// (<c>orig_tags</c>): <c>daily,+weekly,-monthly</c> means "daily stays, weekly is added,
/// monthly is removed". An empty result for a peer revision with removals ("-daily") is a
/// revision pending removal on its peer.
/// </summary>
public static class TagDisplay
{
    public static string Format(Revision revision, Schedule? schedule)
    {
        var order = schedule ?? new Schedule([]);
        if (revision.IsLocal || revision.Tags.SetEquals(revision.OrigTags))
            return order.FormatTags(revision.Tags);
        return string.Join(",", order.SortTags(revision.Tags.Concat(revision.OrigTags)).Select(t =>
            !revision.OrigTags.Contains(t) ? "+" + t
            : !revision.Tags.Contains(t) ? "-" + t
            : t));
    }

    /// <summary>True when a peer revision carries tag changes that peer sync still has to push.</summary>
    public static bool HasPendingChanges(Revision revision) => !revision.IsLocal && !revision.Tags.SetEquals(revision.OrigTags);
}
