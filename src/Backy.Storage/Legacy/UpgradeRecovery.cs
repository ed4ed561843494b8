using Backy.Storage.IO;
using Backy.Storage.Jobs;
using Backy.Storage.Revisions;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Legacy;

/// <summary>
/// Brings revisions whose conversion was interrupted (kill -9, power loss) back to a clean state; see
/// the crash windows on <see cref="RevisionUpgrader"/>. Runs under the exclusive purge lock.
/// </summary>
public static class UpgradeRecovery
{
    public static void Recover(JobDirectory job, ILogger logger)
    {
        var leftovers = Directory.EnumerateFiles(job.Path)
            .Select(Path.GetFileName)
            .Select(name => StripSuffix(name!))
            .Where(id => id is not null && RevisionId.IsValid(id))
            .Distinct()
            .ToList();
        foreach (var id in leftovers)
            RecoverRevision(job, id!, logger);
        if (leftovers.Count > 0)
            DurableFile.FsyncDirectory(job.Path);
    }

    private static void RecoverRevision(JobDirectory job, string id, ILogger logger)
    {
        var mapPath = job.ChunkMapPath(id);
        var staged = mapPath + LegacyFormat.StagedMapSuffix;
        var parked = mapPath + LegacyFormat.ParkedSuffix;
        if (!job.HasRevisionFile(id))
        {
            // The revision was removed since (forget, expire): its leftovers go too.
            DurableFile.TryDelete(staged);
            DurableFile.TryDelete(parked);
            return;
        }
        var revision = job.LoadRevision(id);
        if (revision.BackendType == Revision.OurBackendType)
        {
            // S4: switched; only the old data file was still to be deleted.
            File.Delete(parked);
            File.Delete(staged);
            UpgradeLog.Finished(logger, id);
            return;
        }
        // S1..S3: still legacy by its .rev. Put the old data back in place and forget the staged map.
        if (File.Exists(parked))
            File.Move(parked, mapPath, overwrite: true);
        File.Delete(staged);
        UpgradeLog.RolledBack(logger, id);
    }

    private static string? StripSuffix(string name)
    {
        foreach (var suffix in new[] { LegacyFormat.StagedMapSuffix, LegacyFormat.ParkedSuffix })
            if (name.EndsWith(suffix, StringComparison.Ordinal))
                return name[..^suffix.Length];
        return null;
    }
}
