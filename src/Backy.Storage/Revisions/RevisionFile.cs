using System.Globalization;
using Backy.Storage.IO;
using Backy.Storage.Jobs;
using YamlDotNet.RepresentationModel;

namespace Backy.Storage.Revisions;

/// <summary>Reads and serializes the <c>&lt;id&gt;.rev</c> YAML in the original's shape (written only by
/// <see cref="RevisionStore"/>).</summary>
public static class RevisionFile
{

    /// <summary>
    /// Reads a <c>.rev</c> and checks it is what a writer of this format writes (<see cref="Parse"/>), with a
    /// <c>uuid</c> equal to the file's name: a file that is not is damaged, never taken at face value (issue 13:
    /// a uuid changed in one character made purge delete every chunk of the revision).
    /// </summary>
    public static Revision Read(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (FileNotFoundException) { throw new BackyException($"revision file '{path}' is missing"); }
        try
        {
            var revision = Parse(text);
            var name = Path.GetFileName(path);
            if (name.EndsWith(JobLayout.RevisionExtension, StringComparison.Ordinal) && name[..^JobLayout.RevisionExtension.Length] != revision.Id)
                throw new BackyException($"its uuid '{revision.Id}' is not its file name's '{name[..^JobLayout.RevisionExtension.Length]}'");
            return revision;
        }
        catch (Exception e) when (e is YamlDotNet.Core.YamlException or FormatException or InvalidCastException or OverflowException)
        {
            throw new BackyException($"revision file '{path}' is invalid - {e.Message}", e);
        }
        catch (BackyException e) { throw new BackyException($"revision file '{path}' is invalid - {e.Message}", e); }
    }

    /// <summary>
    /// Parses and checks a <c>.rev</c>'s text. Strict for our format (exactly the fields <see cref="ToYaml"/>
    /// writes, each well-formed), tolerant of what the original wrote in its own formats (nested stats such as
    /// <c>chunk_stats</c>, which <c>upgrade</c> keeps); an unknown <c>backend_type</c> is an error either way.
    /// </summary>
    public static Revision Parse(string text)
    {
        var map = YamlTree.ParseMapping(text);
        var backendType = Text(map, "backend_type") ?? Legacy.LegacyFormat.Cowfile; // the original's oldest files have none
        var ours = backendType == Revision.OurBackendType;
        if (!ours && !Legacy.LegacyFormat.IsLegacy(backendType))
            throw new BackyException($"unknown backend_type '{backendType}' (expected {Revision.OurBackendType}, {Legacy.LegacyFormat.Chunked} or {Legacy.LegacyFormat.Cowfile})");
        foreach (var key in map.Children.Keys)
            if (key is not YamlScalarNode { Value: { } k } || !TopLevelKeys.Contains(k))
                throw new BackyException($"unknown field '{Printable(key)}'");

        var extra = new Dictionary<string, string>(StringComparer.Ordinal);
        string? duration = null, bytesWritten = null;
        var hasDuration = false;
        if (map.Children.TryGetValue(new YamlScalarNode("stats"), out var statsNode))
        {
            if (statsNode is not YamlMappingNode stats)
                throw new BackyException("field 'stats' is not a mapping");
            foreach (var (k, v) in stats.Children)
            {
                var key = (k as YamlScalarNode)?.Value ?? throw new BackyException($"unknown field 'stats.{Printable(k)}'");
                var value = (v as YamlScalarNode)?.Value;
                if (ours && key == UpgradedStatsKey && v is YamlMappingNode) continue;
                if (ours && (!OurStatsKeys.Contains(key) || v is not YamlScalarNode))
                    throw new BackyException($"unknown or malformed field 'stats.{key}'");
                if (key == "duration") { duration = value; hasDuration = true; }
                else if (key == "bytes_written") bytesWritten = value;
                else if (value is not null) extra[key] = value;
            }
        }
        var revision = new Revision
        {
            Id = Text(map, "uuid") ?? throw new BackyException("no uuid"),
            Timestamp = DateTimeOffset.Parse(Text(map, "timestamp") ?? throw new BackyException("no timestamp"),
                CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime(),
            Parent = Text(map, "parent") ?? "",
            Trust = TrustNames.Parse(Text(map, "trust") ?? "trusted"),
            Tags = new SortedSet<string>(Strings(map, "tags"), StringComparer.Ordinal),
            OrigTags = new SortedSet<string>(Strings(map, "orig_tags"), StringComparer.Ordinal),
            Server = Text(map, "server") ?? "",
            BackendType = backendType,
            BytesWritten = string.IsNullOrEmpty(bytesWritten) ? 0 : Count(bytesWritten, "stats.bytes_written"),
            // A duration key with no value is a damaged complete revision, not an incomplete one.
            Duration = hasDuration ? Seconds(duration) : null,
            ExtraStats = extra,
        };
        if (ours) CheckOurs(revision);
        return revision;
    }

    /// <summary>The top-level fields of a <c>.rev</c>, ours and the original's.</summary>
    private static readonly HashSet<string> TopLevelKeys =
        new(["uuid", "timestamp", "parent", "stats", "trust", "tags", "orig_tags", "server", "backend_type"], StringComparer.Ordinal);

    /// <summary>The original's nested chunk statistics: `upgrade` switches a .rev to our format and keeps every other
    /// field as the original wrote it, this one included.</summary>
    private const string UpgradedStatsKey = "chunk_stats";

    /// <summary>The <c>stats</c> keys our backup writes (<see cref="Backup.BackupEngine"/>).</summary>
    private static readonly HashSet<string> OurStatsKeys =
        new(["bytes_written", "duration", "chunks_written", "image_size"], StringComparer.Ordinal);

    /// <summary>
    /// Our backup writes <c>stats: {bytes_written: 0}</c> at its start (an incomplete revision, which the next backup
    /// may remove) and the other stats together with <c>duration</c> at its end. Stats of a finished backup without a
    /// duration are a damaged complete revision: a lost <c>duration</c> must not make it removable.
    /// </summary>
    private static void CheckOurs(Revision r)
    {
        foreach (var (key, value) in r.ExtraStats) Count(value, "stats." + key);
        if (r.IsLocal && r.Duration is null && (r.BytesWritten != 0 || r.ExtraStats.Count > 0))
            throw new BackyException("it has the stats of a finished backup but no 'stats.duration'");
    }

    private static string? Text(YamlMappingNode map, string key)
    {
        if (!map.Children.TryGetValue(new YamlScalarNode(key), out var node)) return null;
        if (node is not YamlScalarNode) throw new BackyException($"field '{key}' is not a single value");
        return YamlTree.Scalar(map, key);
    }

    private static IEnumerable<string> Strings(YamlMappingNode map, string key)
    {
        if (!map.Children.TryGetValue(new YamlScalarNode(key), out var node)) return [];
        if (node is YamlScalarNode { Value: null or "" or "~" or "null" }) return [];
        if (node is not YamlSequenceNode seq || seq.Children.Any(c => c is not YamlScalarNode))
            throw new BackyException($"field '{key}' is not a list of tags");
        return YamlTree.List(map, key);
    }

    private static long Count(string text, string field) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n : throw new BackyException($"field '{field}' is not a count: '{Printable(text)}'");

    private static double Seconds(string? text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0 && double.IsFinite(d)
            ? d : throw new BackyException($"field 'stats.duration' is not a number of seconds: '{Printable(text ?? "")}'");

    private static string Printable(object? node)
    {
        var s = node?.ToString() ?? "";
        s = new string(s.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return s.Length > 40 ? s[..40] + "..." : s;
    }

    public static YamlMappingNode ToYaml(Revision r)
    {
        var stats = new YamlMappingNode { { "bytes_written", YamlTree.Plain(r.BytesWritten.ToString(CultureInfo.InvariantCulture)) } };
        if (r.Duration is { } d) stats.Add("duration", YamlTree.Plain(d.ToString("R", CultureInfo.InvariantCulture)));
        foreach (var (k, v) in r.ExtraStats) stats.Add(k, YamlTree.Plain(v));
        return new YamlMappingNode
        {
            { "uuid", r.Id },
            { "timestamp", YamlTree.Plain(JobLayout.FormatTimestamp(r.Timestamp)) },
            { "parent", YamlTree.Quoted(r.Parent) },
            { "stats", stats },
            { "trust", r.Trust.ToText() },
            { "tags", new YamlSequenceNode(r.Tags.Select(t => (YamlNode)YamlTree.Quoted(t))) },
            { "orig_tags", new YamlSequenceNode(r.OrigTags.Select(t => (YamlNode)YamlTree.Quoted(t))) },
            { "server", YamlTree.Quoted(r.Server) },
            { "backend_type", r.BackendType },
        };
    }

    public static string Serialize(Revision r) => YamlTree.Serialize(ToYaml(r));

    public const UnixFileMode ReadOnlyMode = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
}
