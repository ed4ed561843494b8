namespace Backy.Storage.Backup;

/// <summary>
/// A job's configured source (the <c>source:</c> of its config), made by the source factory in
/// Backy.Sources. One instance per backup run. The backup engine drives it like this:
/// <code>
/// await using var snap = await source.OpenSnapshotAsync(request, ct);   // freeze a consistent view
/// var diff = await snap.OpenDiffAsync(ct);                               // (b) diff against the parent...
/// if (diff is null) using var s = await snap.OpenFullReadAsync(ct);      // (a) ...or a full sequential read
/// ... snap.ReadAtAsync(...) for the post-backup verification (sampled per snap.Verification)
/// await snap.CompleteAsync(success, ct);                                 // keep/drop snapshots
/// </code>
/// </summary>
public interface IBackupSource
{
    /// <summary>
    /// Makes the source ready and freezes what this backup reads (a Ceph snapshot <c>backy-&lt;rev-id&gt;</c>;
    /// nothing for a file). Throws <see cref="BackyException"/> with a one-line reason when the source cannot
    /// be read (<c>cannot read source '/srv/img': permission denied</c>).
    /// </summary>
    Task<ISourceSnapshot> OpenSnapshotAsync(SnapshotRequest request, CancellationToken cancellationToken);
}

/// <param name="RevisionId">The revision being made (names the Ceph snapshot).</param>
/// <param name="ParentRevisionId">The revision the engine will diff against, or null for the first backup.
/// A source may offer a diff only against exactly this revision's state.</param>
/// <param name="AllowDiff">False in forced-write mode (a revision is distrusted): the source must not offer a
/// diff, every block is read.</param>
public sealed record SnapshotRequest(string RevisionId, string? ParentRevisionId, bool AllowDiff);
