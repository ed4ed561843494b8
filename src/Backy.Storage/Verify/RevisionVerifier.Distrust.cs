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
        var distrusted = new List<string>();
        foreach (var revision in _job.CompleteRevisions().Where(r => r.IsLocal && RevisionImages.HasData(_job, r)))
        {
            StoredChunk? used;
            try
            {
                using var image = RevisionImages.Open(_job, revision);
                used = FirstUse(image, bad);
            }
            catch (BackyException) { continue; } // unreadable: its own verify will say why
            if (used is null) continue;
            if (revision.Trust != Trust.Distrusted)
            {
                revision.Trust = Trust.Distrusted;
                _job.WriteRevision(revision);
            }
            distrusted.Add(revision.Id);
            _logger.VerifyDistrusted(revision.Id, used.Value.ToString());
        }
        return distrusted;
    }

    private static StoredChunk? FirstUse(IRevisionImage image, HashSet<StoredChunk> bad)
    {
        for (long block = 0; block < image.BlockCount; block++)
            if (image.ChunkOf(block) is { } chunk && bad.Contains(chunk))
                return chunk;
        return null;
    }
}
