using Backy.Storage.Chunks;
using Backy.Storage.IO;
using Backy.Storage.Schedules;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Backy.Storage.Jobs;

/// <summary>
/// A job's <c>config</c> file, written by the daemon so that job commands run stand-alone:
/// <code>
/// source:
///   type: file
///   filename: /srv/vm/disk.img
/// schedule:
///   daily: {interval: 1d, keep: 7}
/// compression: zstd:3        # optional: lz4 (default) | zstd[:LEVEL]
/// </code>
/// </summary>
public sealed record JobConfig(SourceConfig Source, Schedule? Schedule, ChunkCompression? Compression = null)
{
    public static JobConfig Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (FileNotFoundException) { throw new ConfigException($"cannot read job config '{path}': file not found"); }
        catch (DirectoryNotFoundException) { throw new ConfigException($"cannot read job config '{path}': directory not found"); }
        catch (UnauthorizedAccessException) { throw new ConfigException($"cannot read job config '{path}': permission denied"); }
        try { return Parse(text); }
        catch (ConfigException e) { throw new ConfigException($"job config '{path}' is invalid: {e.Message}", e); }
        catch (YamlException e) { throw new ConfigException($"job config '{path}' is not valid YAML: line {e.Start.Line}: {YamlTree.Reason(e)}", e); }
    }

    public static JobConfig Parse(string text)
    {
        YamlMappingNode root;
        try { root = YamlTree.ParseMapping(text); }
        catch (BackyException e) { throw new ConfigException(e.Message, e); }
        var errors = new List<string>();
        var sourceNode = YamlTree.Mapping(root, "source");
        SourceConfig? source = null;
        if (sourceNode is null)
            errors.Add("source: missing");
        else
        {
            var settings = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (k, v) in sourceNode.Children)
            {
                var key = ((YamlScalarNode)k).Value ?? "";
                if (v is YamlScalarNode s) settings[key] = s.Value ?? "";
                else errors.Add($"source.{key}: expected a single value");
            }
            if (!settings.Remove("type", out var type) || type.Length == 0)
                errors.Add("source.type: missing");
            else
                source = new SourceConfig(type, settings);
        }
        Schedule? schedule = null;
        if (root.Children.ContainsKey(new YamlScalarNode("schedule")))
        {
            var node = YamlTree.Mapping(root, "schedule");
            if (node is null) errors.Add("schedule: expected a mapping of tags");
            else
            {
                var mapping = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
                foreach (var (k, v) in node.Children)
                {
                    var tag = ((YamlScalarNode)k).Value ?? "";
                    if (v is not YamlMappingNode props) { errors.Add($"schedule.{tag}: expected interval and keep"); continue; }
                    mapping[tag] = props.Children.ToDictionary(
                        p => ((YamlScalarNode)p.Key).Value ?? "",
                        p => (p.Value as YamlScalarNode)?.Value ?? "");
                }
                try { schedule = Schedule.FromMapping(mapping); }
                catch (ConfigException e) { errors.Add(e.Message); }
            }
        }
        ChunkCompression? compression = null;
        if (root.Children.TryGetValue(new YamlScalarNode("compression"), out var compressionNode))
        {
            if (compressionNode is not YamlScalarNode { Value: { } value }) errors.Add("compression: expected lz4, zstd or zstd:LEVEL");
            else if (ChunkCompression.TryParse(value, out var parsed, out var error)) compression = parsed;
            else errors.Add("compression: " + error);
        }
        // One line (every error message is): "source.type: missing; schedule.daily.keep: missing".
        if (errors.Count > 0) throw new ConfigException(string.Join("; ", errors.Select(e => e.ReplaceLineEndings("; "))));
        return new JobConfig(source!, schedule, compression);
    }

    public string Serialize()
    {
        var source = new YamlMappingNode { { "type", Source.Type } };
        foreach (var (k, v) in Source.Settings.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            source.Add(k, YamlTree.Quoted(v));
        var root = new YamlMappingNode { { "source", source } };
        if (Schedule is not null)
        {
            var schedule = new YamlMappingNode();
            foreach (var (tag, props) in Schedule.ToMapping())
                schedule.Add(tag, new YamlMappingNode(props.Select(p =>
                    new KeyValuePair<YamlNode, YamlNode>(new YamlScalarNode(p.Key), YamlTree.Plain(p.Value)))));
            root.Add("schedule", schedule);
        }
        if (Compression is not null) root.Add("compression", Compression.ToString());
        return YamlTree.Serialize(root);
    }

    public void Write(string path) => DurableFile.WriteAllText(path, Serialize());
}
