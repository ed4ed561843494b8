using System.Globalization;
using YamlDotNet.RepresentationModel;
using Backy.Storage.IO;

namespace Backy.Storage.Revisions;

/// <summary>Reads and writes the <c>&lt;id&gt;.rev</c> YAML in the original's shape.</summary>
public static class RevisionFile
{
    public const string Extension = ".rev";

    public static Revision Read(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (FileNotFoundException) { throw new BackyException($"revision file '{path}' is missing"); }
        try { return Parse(text); }
        catch (Exception e) when (e is YamlDotNet.Core.YamlException or FormatException or InvalidCastException)
        {
            throw new BackyException($"revision file '{path}' is invalid - {e.Message}", e);
        }
        catch (BackyException e) { throw new BackyException($"revision file '{path}' is invalid - {e.Message}", e); }
    }

    public static Revision Parse(string text)
    {
        var map = YamlTree.ParseMapping(text);
        var stats = YamlTree.Mapping(map, "stats");
        var extra = new Dictionary<string, string>(StringComparer.Ordinal);
        string? duration = null, bytesWritten = null;
        if (stats is not null)
            foreach (var (k, v) in stats.Children)
            {
                var key = ((YamlScalarNode)k).Value ?? "";
                var value = (v as YamlScalarNode)?.Value;
                if (key == "duration") duration = value;
                else if (key == "bytes_written") bytesWritten = value;
                else if (value is not null) extra[key] = value;
            }
        return new Revision
        {
            Id = YamlTree.Scalar(map, "uuid") ?? throw new BackyException("no uuid"),
            Timestamp = DateTimeOffset.Parse(YamlTree.Scalar(map, "timestamp") ?? throw new BackyException("no timestamp"),
                CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime(),
            Parent = YamlTree.Scalar(map, "parent") ?? "",
            Trust = TrustNames.Parse(YamlTree.Scalar(map, "trust") ?? "trusted"),
            Tags = new SortedSet<string>(YamlTree.List(map, "tags"), StringComparer.Ordinal),
            OrigTags = new SortedSet<string>(YamlTree.List(map, "orig_tags"), StringComparer.Ordinal),
            Server = YamlTree.Scalar(map, "server") ?? "",
            BackendType = YamlTree.Scalar(map, "backend_type") ?? "cowfile",
            BytesWritten = string.IsNullOrEmpty(bytesWritten) ? 0 : long.Parse(bytesWritten, CultureInfo.InvariantCulture),
            Duration = string.IsNullOrEmpty(duration) ? null : double.Parse(duration, CultureInfo.InvariantCulture),
            ExtraStats = extra,
        };
    }

    public static YamlMappingNode ToYaml(Revision r)
    {
        var stats = new YamlMappingNode { { "bytes_written", YamlTree.Plain(r.BytesWritten.ToString(CultureInfo.InvariantCulture)) } };
        if (r.Duration is { } d) stats.Add("duration", YamlTree.Plain(d.ToString("R", CultureInfo.InvariantCulture)));
        foreach (var (k, v) in r.ExtraStats) stats.Add(k, YamlTree.Plain(v));
        return new YamlMappingNode
        {
            { "uuid", r.Id },
            { "timestamp", YamlTree.Plain(r.Timestamp.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture)) },
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

    /// <summary>Atomic write; <paramref name="readOnly"/> once the revision is complete.</summary>
    public static void Write(string path, Revision r, bool readOnly) =>
        DurableFile.WriteAllText(path, Serialize(r), readOnly ? ReadOnlyMode : null);

    public const UnixFileMode ReadOnlyMode = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
}
