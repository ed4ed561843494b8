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

    /// <summary>A boolean setting, read as <see cref="SourceSchema.TryParseFlag"/> reads it (the schema
    /// already refused anything else when the factory made the source).</summary>
    public bool Flag(string key, bool defaultValue)
    {
        if (!Settings.TryGetValue(key, out var v)) return defaultValue;
        return SourceSchema.TryParseFlag(v, out var value)
            ? value
            : throw new ConfigException($"source.{key}: '{v}' is not a boolean (true or false)");
    }
}
