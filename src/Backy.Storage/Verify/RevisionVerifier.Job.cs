using Backy.Storage.Backup;
using Backy.Storage.Jobs;
using Backy.Storage.Purge;
using Backy.Storage.Revisions;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Verify;

public sealed partial class RevisionVerifier
{
    /// <summary>
    /// The whole of <c>verify [-r SPEC]</c>, like <see cref="BackupEngine.BackupAsync"/> for backup: takes the backup
    /// lock (through the <see cref="RevisionStore"/> it opens), selects the targets (the revision SPEC names, local
    /// only; without one every distrusted revision), verifies them, then purges what the removed revisions left.
    /// Without SPEC a damaged <c>.rev</c> is a finding too (<see cref="VerifyResult.Damaged"/>); it is kept, the
    /// operator decides. <see cref="VerifyResult.Failure"/> says whether the command fails.
    /// </summary>
    public static async Task<VerifyResult> VerifyJobAsync(JobDirectory job, string? spec, ILogger logger, CancellationToken cancellationToken, BackupSettings? settings = null,
        IProgress<Progress.OperationProgress>? progress = null)
    {
        job.EnsureExists();
        VerifyResult result;
        IReadOnlyList<DamagedRevision> damaged;
        using (var store = RevisionStore.Open(job, "verify", logger))
        {
            var scan = job.ScanRevisions();
            damaged = spec is null ? scan.Damaged : [];
            var targets = spec is null ? Distrusted(scan.Revisions) : [LocalOnly(job.Resolve(spec, scan.Revisions))];
            if (targets.Count == 0)
            {
                logger.NothingToVerify();
                return VerifyResult.Nothing with { Damaged = damaged };
            }
            result = await new RevisionVerifier(store, logger, settings) { Progress = progress }.VerifyAsync(targets, cancellationToken).ConfigureAwait(false);
        }
        logger.VerifySummary(result.Verified.Count, result.Removed.Count);
        await new GarbageCollector(job, logger).PurgeAsync(cancellationToken).ConfigureAwait(false);
        return result with { Damaged = damaged };
    }

    /// <summary>What verify checks without <c>-r</c>, oldest first, and backup checks the newest of: complete local
    /// revisions that are distrusted.</summary>
    public static IReadOnlyList<Revision> Distrusted(IEnumerable<Revision> revisions) =>
        revisions.Where(r => r.IsComplete && r.IsLocal && r.Trust == Trust.Distrusted).ToList();

    /// <summary>A peer revision's data is on the peer: verifying it here would report every chunk missing.</summary>
    private static Revision LocalOnly(Revision revision) => revision.IsLocal
        ? revision
        : throw new BackyException($"revision {revision.Id} is stored on server '{revision.Server}', not here (verify it there)");
}
