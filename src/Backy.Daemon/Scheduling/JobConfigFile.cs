using Backy.Daemon.Config;
using YamlDotNet.RepresentationModel;

namespace Backy.Daemon.Scheduling;

/// <summary>
/// Writes <c>$base-dir/JOB/config</c> (<c>{source: {...}, schedule: {TAG: {interval, keep}}}</c>) so
/// that job commands run stand-alone. Only when the content changed: an unchanged file keeps its
/// mtime (housekeeping ages directories by it) and costs no fsync. INTERIM serializer until the
/// storage library's JobConfig is on main.
/// </summary>
public static class JobConfigFile
{
    public const string FileName = "config";

    /// <summary>True when the file was (re)written.</summary>
    public static bool WriteIfChanged(string jobDir, JobDefinition job)
    {
        Directory.CreateDirectory(jobDir);
        var path = Path.Combine(jobDir, FileName);
        var content = Serialize(job);
        try
        {
            if (File.Exists(path) && File.ReadAllText(path) == content)
                return false;
        }
        catch (IOException)
        {
            // Unreadable: rewrite it.
        }
        DurableWrite.WriteAllText(path, content);
        return true;
    }

    public static string Serialize(JobDefinition job)
    {
        var source = new YamlMappingNode { { "type", job.Source.Type } };
        foreach (var (k, v) in job.Source.Settings.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            source.Add(k, new YamlScalarNode(v) { Style = YamlDotNet.Core.ScalarStyle.DoubleQuoted });
        var schedule = new YamlMappingNode();
        foreach (var i in job.Schedule.Intervals)
            schedule.Add(i.Tag, new YamlMappingNode
            {
                { "interval", Backy.Storage.Schedules.Durations.Format(i.Interval) },
                { "keep", i.Keep.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            });
        var root = new YamlMappingNode { { "source", source }, { "schedule", schedule } };
        var writer = new StringWriter();
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        return writer.ToString();
    }
}
