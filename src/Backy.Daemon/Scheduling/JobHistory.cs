using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Backy.Daemon.Scheduling;

/// <summary>What scheduling needs of one revision: when, which tags, how long it took (null =
/// incomplete: the backup is running or died).</summary>
public sealed record JobRevision(string Id, DateTimeOffset Timestamp, IReadOnlySet<string> Tags, TimeSpan? Duration)
{
    public bool IsComplete => Duration is not null;
}

/// <summary>
/// Reads the revisions of a job directory (the <c>*.rev</c> files) for scheduling. Read side only;
/// a revision file that cannot be read is skipped here (the worker reports it loudly), because a
/// scheduler that stops over one bad file would miss every later backup.
/// </summary>
public static class JobHistory
{
    public static IReadOnlyList<JobRevision> Read(string jobDir)
    {
        if (!Directory.Exists(jobDir))
            return [];
        var list = new List<JobRevision>();
        foreach (var file in Directory.EnumerateFiles(jobDir, "*.rev"))
        {
            try
            {
                var stream = new YamlStream();
                stream.Load(new StringReader(File.ReadAllText(file)));
                if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode map)
                    continue;
                var id = Scalar(map, "uuid") ?? Path.GetFileNameWithoutExtension(file);
                if (Scalar(map, "timestamp") is not { } ts)
                    continue;
                var timestamp = DateTimeOffset.Parse(ts, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime();
                var tags = map.Children.TryGetValue(new YamlScalarNode("tags"), out var t) && t is YamlSequenceNode seq
                    ? seq.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? "").Where(s => s.Length > 0).ToHashSet(StringComparer.Ordinal)
                    : new HashSet<string>(StringComparer.Ordinal);
                TimeSpan? duration = null;
                if (map.Children.TryGetValue(new YamlScalarNode("stats"), out var s) && s is YamlMappingNode stats
                    && Scalar(stats, "duration") is { } d && double.TryParse(d, NumberStyles.Float, CultureInfo.InvariantCulture, out var secs))
                    duration = TimeSpan.FromSeconds(secs);
                list.Add(new JobRevision(id, timestamp, tags, duration));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or YamlDotNet.Core.YamlException)
            {
                // Removed while listing, or being written: the next look sees it.
            }
        }
        list.Sort((a, b) => a.Timestamp.CompareTo(b.Timestamp));
        return list;
    }

    private static string? Scalar(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is YamlScalarNode s && !string.IsNullOrEmpty(s.Value) && s.Value != "null" ? s.Value : null;
}
