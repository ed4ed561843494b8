namespace Backy.Storage.Jobs;

/// <summary>
/// The job config's <c>source:</c> mapping: <see cref="Type"/> selects the source implementation, the
/// other keys are its settings, kept as strings (YAML scalars) for the source to validate.
/// </summary>
public sealed record SourceConfig(string Type, IReadOnlyDictionary<string, string> Settings)
{
    public string Required(string key) =>
        Settings.TryGetValue(key, out var v) && v.Length > 0
            ? v
            : throw new ConfigException($"source.{key}: missing (required by source type '{Type}')");

    public string? Optional(string key) => Settings.TryGetValue(key, out var v) ? v : null;

    public bool Flag(string key, bool defaultValue)
    {
        if (!Settings.TryGetValue(key, out var v)) return defaultValue;
        return v.Trim().ToLowerInvariant() switch
        {
            "true" or "yes" or "on" or "1" => true,
            "false" or "no" or "off" or "0" => false,
            _ => throw new ConfigException($"source.{key}: '{v}' is not a boolean (use true or false)"),
        };
    }

    /// <summary>Reports keys the source type does not know, all at once.</summary>
    public void RejectUnknownKeys(params string[] known)
    {
        var unknown = Settings.Keys.Where(k => !known.Contains(k)).Order(StringComparer.Ordinal).ToArray();
        if (unknown.Length > 0)
            throw new ConfigException(string.Join(Environment.NewLine,
                unknown.Select(k => $"source.{k}: unknown key for source type '{Type}'")));
    }
}
