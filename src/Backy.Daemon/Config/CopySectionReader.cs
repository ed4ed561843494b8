using Backy.Storage.Copies;
using YamlDotNet.RepresentationModel;

namespace Backy.Daemon.Config;

/// <summary>
/// Reads <c>copies:</c> (off-site copy targets, <see cref="CopyTarget"/>) and each job's <c>copies: [names]</c>.
/// Its own reader so that the source schema's reader stays untouched. The target's keys are validated by
/// Storage's <see cref="JobCopies.ParseEntry"/>, the same code that reads a job's <c>config</c> and
/// <c>--copy-config</c>; its messages never contain a secret.
/// </summary>
internal static class CopySectionReader
{
    public static Dictionary<string, CopyTarget> Read(YamlErrors errors, YamlNode? node)
    {
        var copies = new Dictionary<string, CopyTarget>(StringComparer.Ordinal);
        var m = errors.Mapping(node, "copies", required: false);
        if (m is null)
            return copies;
        foreach (var (name, keyNode, value) in errors.Entries(m, "copies"))
        {
            var path = $"copies.{name}";
            var found = new List<(string Path, string Reason)>();
            var target = JobCopies.ParseEntry(name, value, path, found);
            foreach (var (p, reason) in found)
            {
                var key = p.Length > path.Length + 1 ? p[(path.Length + 1)..] : "";
                errors.Add(p, YamlErrors.Get(value as YamlMappingNode, key) ?? value, reason);
            }
            if (target is not null)
                copies[name] = target;
        }
        return copies;
    }

    /// <summary><c>jobs.NAME.copies</c>: a list of names of <c>copies:</c> entries.</summary>
    public static IReadOnlyList<CopyTarget> ReadJobCopies(YamlErrors errors, YamlNode? node, string path, IReadOnlyDictionary<string, CopyTarget> copies)
    {
        if (node is null)
            return [];
        if (node is not YamlSequenceNode sequence)
        {
            errors.Add(path, node, "expected a list of copy names, e.g. [offsite]");
            return [];
        }
        var list = new List<CopyTarget>();
        var i = 0;
        foreach (var item in sequence)
        {
            var itemPath = $"{path}[{i++}]";
            if (errors.Scalar(item, itemPath) is not { } name)
                continue;
            if (!copies.TryGetValue(name, out var target))
                errors.Add(itemPath, item, $"unknown copy '{name}' (defined: {(copies.Count == 0 ? "none" : string.Join(", ", copies.Keys.Order(StringComparer.Ordinal)))})");
            else if (list.Contains(target))
                errors.Add(itemPath, item, $"copy '{name}' is named twice");
            else
                list.Add(target);
        }
        return list;
    }
}
