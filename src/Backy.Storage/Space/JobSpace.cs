namespace Backy.Storage.Space;

/// <summary>
/// Where a job's space goes (<c>status</c>): what its chunk files hold on disk, what its revisions' images add up to,
/// and what each revision alone costs.
/// </summary>
/// <param name="StoredBytes">Every chunk file in <c>chunks/</c> (<see cref="ChunkFiles"/>), referenced or not yet purged.</param>
/// <param name="ImageBytes">The sum of the image sizes of the revisions whose data is in those chunks (holes included:
/// it is what a restore of each would write).</param>
/// <param name="ExclusiveBytes">Per revision id: bytes of the chunk files only that revision uses (what forget + purge of
/// it alone would free); null when unknown (a cowfile revision, an unreadable chunk map anywhere in the job). A revision
/// without data here (a peer's) has no entry.</param>
public sealed partial record JobSpace(long StoredBytes, long ImageBytes, IReadOnlyDictionary<string, long?> ExclusiveBytes)
{
    /// <summary>Dedup x compression: image bytes per byte on disk; null without chunk files.</summary>
    public double? Ratio => StoredBytes > 0 ? (double)ImageBytes / StoredBytes : null;

    public long? ExclusiveOf(string revisionId) => ExclusiveBytes.GetValueOrDefault(revisionId);
}
