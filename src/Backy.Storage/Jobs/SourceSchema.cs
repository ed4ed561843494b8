namespace Backy.Storage.Jobs;

/// <summary>One key of a source type's settings.</summary>
/// <param name="IsFlag">A boolean (<see cref="SourceSchema.TryParseFlag"/>); else free text.</param>
public sealed record SourceSetting(string Key, bool Required = false, bool IsFlag = false)
{
    public static SourceSetting Text(string key, bool required = false) => new(key, required);

    public static SourceSetting Flag(string key) => new(key, IsFlag: true);
}

/// <summary>
/// The settings a source type takes, declared once by the source itself (<c>FileSource.Schema</c>, ...)
/// and registered with it in <c>SourceFactory</c>. The daemon checks a job's <c>source:</c> against it
/// when it reads backy.conf (every mistake with its line), the worker again before it makes the source:
/// the same rules in both, so what the daemon accepts the worker runs.
/// </summary>
public sealed class SourceSchema(string type, params SourceSetting[] settings)
{
    public string Type { get; } = type;

    public IReadOnlyList<SourceSetting> Settings { get; } = settings;

    /// <summary>The same settings under another type name (the original's <c>ceph</c> for <c>ceph-rbd</c>).</summary>
    public SourceSchema Alias(string alias) => new(alias, [.. Settings]);

    /// <summary>YAML 1.1 booleans, as the original (PyYAML) read them: <c>cow: yes</c> is true.</summary>
    public static bool TryParseFlag(string text, out bool value)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "true" or "yes" or "on" or "1": value = true; return true;
            case "false" or "no" or "off" or "0": value = false; return true;
            default: value = false; return false;
        }
    }

    /// <summary>Every reason why <paramref name="values"/> do not fit this type, keyed by setting.</summary>
    public IEnumerable<(string Key, string Reason)> Check(IReadOnlyDictionary<string, string> values)
    {
        foreach (var s in Settings.Where(s => s.Required && (!values.TryGetValue(s.Key, out var v) || v.Length == 0)))
            yield return (s.Key, $"missing (required for source type '{Type}')");
        foreach (var key in values.Keys.Where(k => Settings.All(s => s.Key != k)).Order(StringComparer.Ordinal))
            yield return (key, $"unknown key for source type '{Type}' (expected one of: {string.Join(", ", Settings.Select(s => s.Key))})");
        foreach (var s in Settings.Where(s => s.IsFlag && values.ContainsKey(s.Key)))
            if (!TryParseFlag(values[s.Key], out _))
                yield return (s.Key, $"'{values[s.Key]}' is not a boolean (true or false)");
    }

    /// <summary>Throws one <see cref="ConfigException"/> with every mistake (one line: "source.KEY: reason; ...").</summary>
    public void Validate(SourceConfig config)
    {
        var problems = Check(config.Settings).Select(p => $"source.{p.Key}: {p.Reason}").ToList();
        if (problems.Count > 0)
            throw new ConfigException(string.Join("; ", problems));
    }
}
