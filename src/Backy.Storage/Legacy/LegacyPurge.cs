using Backy.Storage.Jobs;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Legacy;

/// <summary>
/// The part of `purge` that concerns the original's data, so that a job that is not (fully) upgraded
/// behaves as the manual says: chunks of forgotten or expired legacy revisions go at the next purge, and
/// leftovers of an interrupted upgrade are cleaned up without waiting for the next `upgrade` run.
/// Runs under the exclusive purge lock, before the marking of our chunks.
/// </summary>
public static class LegacyPurge
{
    /// <summary>Returns the number of old chunk files deleted.</summary>
    public static long Run(JobDirectory job, ILogger logger)
    {
        // Interrupted conversions first: rolled back ones must not have their new chunks marked as used.
        UpgradeRecovery.Recover(job, logger);
        var scan = job.ScanRevisions();
        var history = scan.Revisions;
        var marker = Path.Combine(job.Chunks.Directory, "store");
        if (!File.Exists(marker) && !history.Any(r => LegacyFormat.IsLegacy(r.BackendType)))
            return 0; // nothing of the original's left (the sweep removes the marker last)
        // A damaged .rev may be a legacy revision whose old chunks the sweep would take for garbage.
        if (scan.Damaged.Count > 0)
        {
            UpgradeLog.LegacySweepSkipped(logger, scan.Damaged[0].Reason);
            return 0;
        }
        var references = LegacyReferences.Build(job.Path, history);
        references.RefreshPins(job.Path);
        return LegacySweep.Run(job, references, logger);
    }
}
