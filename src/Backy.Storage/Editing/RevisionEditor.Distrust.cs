using Backy.Storage.Revisions;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Editing;

public sealed partial class RevisionEditor
{
    /// <summary>Distrusts one revision (<c>distrust -r</c>). Peer revisions are refused: their
    /// chunks are on the peer, so only the peer can distrust them.</summary>
    public IReadOnlyList<Revision> Distrust(string spec)
    {
        using var _ = Lock("distrust revisions of");
        var revision = job.Resolve(spec, job.LoadRevisions());
        if (!revision.IsLocal)
            throw new BackyException($"cannot distrust revision {revision.Id}: it is stored on peer '{revision.Server}' (distrust it there)");
        return DistrustAll([revision]);
    }

    /// <summary>Distrusts every complete local revision whose timestamp lies in
    /// <paramref name="range"/> (<c>distrust [-f FROM] [-u UNTIL]</c>; all of them by default).</summary>
    public IReadOnlyList<Revision> Distrust(DateRange range)
    {
        using var _ = Lock("distrust revisions of");
        return DistrustAll(job.LoadRevisions().Where(r => r.IsComplete && r.IsLocal && range.Contains(r.Timestamp)).ToArray());
    }

    private IReadOnlyList<Revision> DistrustAll(IReadOnlyList<Revision> revisions)
    {
        foreach (var r in revisions.Where(r => r.Trust != Trust.Distrusted))
        {
            r.Trust = Trust.Distrusted;
            job.WriteRevision(r);
            LogDistrusted(logger, r.Id);
        }
        return revisions;
    }

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "distrusted revision {Revision}")]
    private static partial void LogDistrusted(ILogger logger, string revision);
}
