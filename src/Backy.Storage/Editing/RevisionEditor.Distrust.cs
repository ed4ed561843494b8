using Backy.Storage.Revisions;

namespace Backy.Storage.Editing;

public sealed partial class RevisionEditor
{
    /// <summary>Distrusts one revision (<c>distrust -r</c>). Peer revisions are refused: their
    /// chunks are on the peer, so only the peer can distrust them.</summary>
    public IReadOnlyList<Revision> Distrust(string spec)
    {
        using var store = Lock("distrust revisions of");
        var revision = job.Resolve(spec, job.LoadRevisions());
        if (!revision.IsLocal)
            throw new BackyException($"cannot distrust revision {revision.Id}: it is stored on peer '{revision.Server}' (distrust it there)");
        return store.Distrust(r => r.Id == revision.Id, "distrust command");
    }

    /// <summary>Distrusts every complete local revision whose timestamp lies in
    /// <paramref name="range"/> (<c>distrust [-f FROM] [-u UNTIL]</c>; all of them by default).</summary>
    public IReadOnlyList<Revision> Distrust(DateRange range)
    {
        using var store = Lock("distrust revisions of");
        return store.Distrust(r => range.Contains(r.Timestamp), "distrust command");
    }
}
