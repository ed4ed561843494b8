using Backy.Storage.Images;
using Backy.Storage.Revisions;

namespace Backy.Storage.Verify;

public sealed partial class RevisionVerifier
{
    /// <summary>
    /// Distrusts every remaining local revision that uses a chunk found bad (and deleted) in this run: each of
    /// them would fail to restore, and while one is distrusted the next backup writes every chunk again.
    /// Returns their ids (those already distrusted included).
    /// </summary>
    private List<string> DistrustUsersOf(HashSet<StoredChunk> bad)
    {
        var used = new Dictionary<string, StoredChunk>(StringComparer.Ordinal);
        // Through the store's one distrust (it reads the revisions again under the lock the store holds).
        var selected = _store.Distrust(revision =>
        {
            if (!RevisionImages.HasData(_job, revision)) return false;
            try
            {
                using var image = RevisionImages.Open(_job, revision);
                if (FirstUse(image, bad) is not { } chunk) return false;
                used[revision.Id] = chunk;
                return true;
            }
            catch (BackyException) { return false; } // unreadable: its own verify will say why
        }, "it uses a chunk this verify found bad");
        foreach (var revision in selected)
            _logger.VerifyDistrusted(revision.Id, used[revision.Id].ToString());
        return selected.Select(r => r.Id).ToList();
    }

    private static StoredChunk? FirstUse(IRevisionImage image, HashSet<StoredChunk> bad)
    {
        for (long block = 0; block < image.BlockCount; block++)
            if (image.ChunkOf(block) is { } chunk && bad.Contains(chunk))
                return chunk;
        return null;
    }
}
