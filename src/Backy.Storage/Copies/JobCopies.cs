using Backy.Storage.IO;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Backy.Storage.Copies;

/// <summary>
/// The <c>copies:</c> section of a job's <c>config</c> (written by the daemon from backy.conf, resolved: the
/// targets the job names, whole), and of a <c>--copy-config FILE</c>:
/// <code>
/// copies:
///   offsite: {type: s3, endpoint: ..., bucket: ..., access-key: ..., secret-key-file: ...}
/// </code>
/// A <c>--copy-config</c> file may also be one target's mapping alone (with <c>type:</c> at the top).
/// </summary>
public static class JobCopies
{
    public const string Key = "copies";

    /// <summary>The job's copy targets by name (none when the config has no <c>copies:</c>); all errors at once.</summary>
    public static IReadOnlyDictionary<string, CopyTarget> Load(string configPath)
    {
        string text;
        try { text = File.ReadAllText(configPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"cannot read job config '{configPath}': {IoErrors.Reason(e)}");
        }
        return Parse(text, configPath);
    }

    public static IReadOnlyDictionary<string, CopyTarget> Parse(string text, string nameForErrors)
    {
        YamlMappingNode root;
        try { root = YamlTree.ParseMapping(text); }
        catch (Exception e) when (e is BackyException or YamlException)
        {
            throw new ConfigException($"'{nameForErrors}' is not valid YAML - {e.Message}");
        }
        var errors = new List<(string Path, string Reason)>();
        var targets = new Dictionary<string, CopyTarget>(StringComparer.Ordinal);
        if (root.Children.ContainsKey(new YamlScalarNode("type")))
        {
            if (ParseEntry("copy", root, "", errors) is { } single) targets[single.Name] = single;
        }
        else if (root.Children.TryGetValue(new YamlScalarNode(Key), out var node))
        {
            if (node is not YamlMappingNode copies) errors.Add((Key, "expected a mapping of copy names to targets"));
            else
                foreach (var (k, v) in copies.Children)
                {
                    var name = (k as YamlScalarNode)?.Value ?? "";
                    if (ParseEntry(name, v, $"{Key}.{name}", errors) is { } t) targets[name] = t;
                }
        }
        if (errors.Count > 0)
            throw new ConfigException($"'{nameForErrors}': " + string.Join(Environment.NewLine, errors.Select(e => $"{e.Path}: {e.Reason}")));
        return targets;
    }

    /// <summary>One target from a YAML mapping of scalars; errors carry <paramref name="path"/>.</summary>
    public static CopyTarget? ParseEntry(string name, YamlNode node, string path, ICollection<(string Path, string Reason)> errors)
    {
        var prefix = path.Length == 0 ? "" : path + ".";
        if (node is not YamlMappingNode m)
        {
            errors.Add((path.Length == 0 ? name : path, "expected a mapping with type, bucket, access-key, ..."));
            return null;
        }
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        var before = errors.Count;
        foreach (var (k, v) in m.Children)
        {
            var key = (k as YamlScalarNode)?.Value ?? "";
            if (v is YamlScalarNode s) settings[key] = s.Value ?? "";
            else errors.Add((prefix + key, "expected a single value"));
        }
        var target = CopyTarget.Parse(name, settings, path.Length == 0 ? name : path, errors);
        return errors.Count > before ? null : target;
    }

    /// <summary>The <c>copies:</c> mapping to append to a job's config.</summary>
    public static YamlMappingNode ToYaml(IEnumerable<CopyTarget> targets)
    {
        var copies = new YamlMappingNode();
        foreach (var t in targets.OrderBy(t => t.Name, StringComparer.Ordinal))
            copies.Add(t.Name, new YamlMappingNode(t.ToSettings().Select(kv =>
                new KeyValuePair<YamlNode, YamlNode>(new YamlScalarNode(kv.Key), YamlTree.Quoted(kv.Value)))));
        return copies;
    }
}
