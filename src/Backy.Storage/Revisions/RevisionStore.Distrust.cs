using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Revisions;

public sealed partial class RevisionStore
{
    /// <summary>
    /// THE distrust: marks every complete local revision that <paramref name="which"/> selects distrusted, reading
    /// the revisions again under the lock (never a copy loaded before, which may be stale). Already distrusted ones
    /// are left as they are. Backup (integrity error), restore (bad chunk), verify and <c>distrust</c> all come here.
    /// </summary>
    /// <param name="reason">Why, for the log line of each revision ("chunk ... is corrupt", "distrust command").</param>
    /// <returns>Every selected revision (distrusted now, whether by this call or before).</returns>
    public IReadOnlyList<Revision> Distrust(Func<Revision, bool> which, string reason)
    {
        EnsureHeld();
        var selected = Job.LoadRevisions().Where(r => r.IsLocal && r.IsComplete && which(r)).ToList();
        foreach (var r in selected.Where(r => r.Trust != Trust.Distrusted))
        {
            r.Trust = Trust.Distrusted;
            Write(r);
            LogDistrusted(_logger, r.Id, reason);
        }
        return selected;
    }

    /// <summary>Every complete local revision (what an integrity error found by backup or restore calls for).</summary>
    public IReadOnlyList<Revision> DistrustAll(string reason) => Distrust(_ => true, reason);

    /// <summary>
    /// Every complete local revision whose chunk map references one of <paramref name="chunks"/> (a bad chunk
    /// distrusts every revision that uses it). A revision in our format whose chunk map cannot be read is
    /// distrusted too: whether it uses the chunk is unknown. Revisions in the original's formats use no chunk of ours.
    /// </summary>
    public IReadOnlyList<Revision> DistrustUsing(IReadOnlySet<ChunkId> chunks, string reason) => Distrust(r =>
    {
        if (r.BackendType != Revision.OurBackendType) return false;
        try { return Job.ReadChunkMap(r).ReferencedChunks().Any(chunks.Contains); }
        catch (Exception e) when (e is BackyException or IOException or UnauthorizedAccessException) { return true; }
    }, reason);

    [LoggerMessage(EventId = 1080, Level = LogLevel.Warning, Message = "distrusted revision {Revision}: {Reason}")]
    private static partial void LogDistrusted(ILogger logger, string revision, string reason);
}
