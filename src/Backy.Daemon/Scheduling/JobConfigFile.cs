using Backy.Daemon.Config;
using Backy.Storage.Copies;
using Backy.Storage.IO;
using Backy.Storage.Jobs;

namespace Backy.Daemon.Scheduling;

/// <summary>
/// Writes <c>$base-dir/JOB/config</c> (the storage library's <see cref="JobConfig"/>: source,
/// schedule and compression) so that job commands run stand-alone. Only when the content changed: an unchanged file
/// keeps its mtime (housekeeping ages directories by it) and costs no fsync.
/// </summary>
public static class JobConfigFile
{
    /// <summary>True when the file was (re)written (atomically: temp, fsync, rename, fsync dir).</summary>
    public static bool WriteIfChanged(string jobDir, JobDefinition job)
    {
        Directory.CreateDirectory(jobDir);
        var path = Path.Combine(jobDir, JobLayout.ConfigFileName);
        var content = new JobConfig(new SourceConfig(job.Source.Type, job.Source.Settings), job.Schedule, job.Compression).Serialize();
        // The resolved copy targets, so that `backy copy` runs stand-alone; their own section (JobCopies).
        if (job.Copies.Targets.Count > 0)
            content += YamlTree.Serialize(new YamlDotNet.RepresentationModel.YamlMappingNode { { JobCopies.Key, JobCopies.ToYaml(job.Copies.Targets) } });
        // A secret written inline in backy.conf is copied too: then only the owner may read the file.
        var mode = job.Copies.Targets.Any(t => t.SecretKey is not null) ? UnixFileMode.UserRead | UnixFileMode.UserWrite : (UnixFileMode?)null;
        try
        {
            if (File.Exists(path) && File.ReadAllText(path) == content)
                return false;
        }
        catch (IOException)
        {
            // Unreadable: rewrite it.
        }
        DurableFile.WriteAllText(path, content, mode);
        return true;
    }
}
