using Backy.Storage.Revisions;
using Backy.Storage.Schedules;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Editing;

/// <summary>The outcome of a tag change.</summary>
/// <param name="Revision">The revision (with its new tags).</param>
/// <param name="OldTags">Its tags before.</param>
/// <param name="Removed">True when --autoremove deleted it (or, for a peer revision, marked it for removal).</param>
public sealed record TagChange(Revision Revision, IReadOnlySet<string> OldTags, bool Removed);

/// <summary>--expect did not match: nothing was changed.</summary>
public sealed class TagExpectationException(string message) : BackyException(message);

public sealed partial class RevisionEditor
{
    /// <summary><c>tags [-f] [--autoremove] [--expect TAGS] {set,add,remove} REVISION TAGS</c>.</summary>
    /// <param name="expect">When given, the change only happens if the revision's tags equal it.</param>
    public TagChange EditTags(TagAction action, string spec, IReadOnlySet<string> tags,
        IReadOnlySet<string>? expect = null, bool autoremove = false, bool force = false)
    {
        using var store = Lock("change tags of");
        var revision = job.Resolve(spec, job.LoadRevisions());
        if (!force && action.NeedsValidation())
            TagValidation.Validate(LoadSchedule(), tags, force);
        var old = new SortedSet<string>(revision.Tags, StringComparer.Ordinal);
        if (expect is not null && !expect.SameAs(old))
            throw new TagExpectationException(
                $"tags of revision {revision.Id} are '{TagActions.Show(old)}', not the expected '{TagActions.Show(expect)}': nothing changed");

        revision.Tags = action.Apply(old, tags);
        LogTagsChanged(logger, revision.Id, TagActions.Show(old), TagActions.Show(revision.Tags));
        if (revision.Tags.Count == 0 && autoremove)
        {
            Remove(store, revision);
            return new TagChange(revision, old, Removed: true);
        }
        if (!revision.Tags.SameAs(old))
            store.Write(revision);
        return new TagChange(revision, old, Removed: false);
    }

    [LoggerMessage(EventId = 1820, Level = LogLevel.Information, Message = "tags of revision {Revision}: {Old} -> {New}")]
    private static partial void LogTagsChanged(ILogger logger, string revision, string old, string @new);
}
