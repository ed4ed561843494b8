using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Backy.Daemon.Config;

/// <summary>
/// The collecting side of validation: typed accessors over YAML nodes that record a
/// <see cref="ConfigError"/> (key path + line) instead of throwing, so one pass finds every mistake.
/// </summary>
internal sealed class YamlErrors
{
    private readonly List<ConfigError> _errors = [];
    private readonly Dictionary<string, int> _lines = new(StringComparer.Ordinal);

    public IReadOnlyList<ConfigError> Errors => _errors;

    public static int LineOf(YamlNode node) => (int)node.Start.Line;

    public void Add(string path, YamlNode? node, string message) =>
        _errors.Add(new ConfigError(path, node is null ? LineNear(path) : LineOf(node), message));

    /// <summary>Remembers where <paramref name="path"/> is written, for errors found later by code
    /// that never saw the YAML (<c>Schedule.FromMapping</c> reports paths only).</summary>
    public void Remember(string path, YamlNode node) => _lines.TryAdd(path, LineOf(node));

    /// <summary>The line of the longest remembered prefix of <paramref name="path"/>.</summary>
    public int? LineNear(string path)
    {
        for (var p = path; p.Length > 0; p = p.LastIndexOf('.') is var i and > 0 ? p[..i] : "")
            if (_lines.TryGetValue(p, out var line))
                return line;
        return null;
    }

    public YamlMappingNode? Mapping(YamlNode? node, string path, bool required = true)
    {
        switch (node)
        {
            case null when !required:
                return null;
            case null:
                Add(path, null, "missing");
                return null;
            case YamlMappingNode m:
                Remember(path, m);
                return m;
            case YamlScalarNode { Value: null or "" or "~" or "null" } when !required:
                return null; // `peers:` with nothing under it: an empty section
            default:
                Add(path, node, "expected a mapping");
                return null;
        }
    }

    public string? Scalar(YamlNode? node, string path, bool required = true)
    {
        switch (node)
        {
            case null:
                if (required)
                    Add(path, null, "missing");
                return null;
            case YamlScalarNode s when !string.IsNullOrWhiteSpace(s.Value):
                Remember(path, s);
                return s.Value;
            case YamlScalarNode s:
                Add(path, s, "empty value");
                return null;
            default:
                Add(path, node, "expected a single value");
                return null;
        }
    }

    public int? Integer(YamlNode? node, string path, int min, int max)
    {
        var text = Scalar(node, path, required: false);
        if (text is null)
            return null;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max)
            return n;
        Add(path, node, $"'{text}' is not a whole number from {min} to {max}");
        return null;
    }

    /// <summary>Child nodes by key; non-scalar or duplicate keys are errors.</summary>
    public IEnumerable<(string Key, YamlNode KeyNode, YamlNode Value)> Entries(YamlMappingNode mapping, string path)
    {
        foreach (var (k, v) in mapping.Children)
        {
            if (k is not YamlScalarNode { Value: { Length: > 0 } key })
            {
                Add(path, k, "keys must be plain names");
                continue;
            }
            var child = path.Length == 0 ? key : $"{path}.{key}";
            Remember(child, k);
            yield return (key, k, v);
        }
    }

    /// <summary>Reports every key of <paramref name="mapping"/> that is not in <paramref name="allowed"/>.</summary>
    public void RejectUnknownKeys(YamlMappingNode mapping, string path, params string[] allowed)
    {
        foreach (var (key, keyNode, _) in Entries(mapping, path))
            if (!allowed.Contains(key, StringComparer.Ordinal))
                Add(Join(path, key), keyNode, $"unknown key (expected one of: {string.Join(", ", allowed)})");
    }

    public static YamlNode? Get(YamlMappingNode? mapping, string key) =>
        mapping is not null && mapping.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

    public static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
}
