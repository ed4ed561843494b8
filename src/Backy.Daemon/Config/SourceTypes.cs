namespace Backy.Daemon.Config;

/// <summary>The source types the worker understands and the keys each takes (manual, "Source
/// types"). The daemon checks them up front so a typo fails at start, not at 3 a.m. in a worker.</summary>
internal static class SourceTypes
{
    private sealed record Shape(string[] Required, string[] Optional, string[] Booleans);

    private static readonly Shape Rbd = new(["pool", "image"], ["full-always"], ["full-always"]);

    private static readonly Dictionary<string, Shape> Shapes = new(StringComparer.Ordinal)
    {
        ["file"] = new(["filename"], ["cow"], ["cow"]),
        ["ceph-rbd"] = Rbd,
        ["ceph"] = Rbd, // the original's alias
        ["flyingcircus"] = new(["pool", "image", "vm"], ["full-always", "consul_acl_token"], ["full-always"]),
    };

    public static IEnumerable<string> Names => Shapes.Keys;

    public static bool IsKnown(string type) => Shapes.ContainsKey(type);

    /// <summary>Reasons why <paramref name="settings"/> do not fit <paramref name="type"/>, keyed by setting.</summary>
    public static IEnumerable<(string Key, string Reason)> Check(string type, IReadOnlyDictionary<string, string> settings)
    {
        var shape = Shapes[type];
        foreach (var key in shape.Required.Where(k => !settings.ContainsKey(k)))
            yield return (key, $"missing (required for source type '{type}')");
        foreach (var key in settings.Keys.Where(k => !shape.Required.Contains(k) && !shape.Optional.Contains(k)))
            yield return (key, $"unknown key for source type '{type}' (expected one of: {string.Join(", ", shape.Required.Concat(shape.Optional))})");
        foreach (var key in shape.Booleans.Where(settings.ContainsKey))
            if (!bool.TryParse(settings[key], out _))
                yield return (key, $"'{settings[key]}' is not true or false");
    }
}
