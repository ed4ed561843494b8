namespace Backy.Daemon.Config;

/// <summary>A job's <c>source:</c> mapping: its <c>type</c> and the type's scalar settings, kept as
/// written (strings) because the daemon only validates them and copies them into the job's
/// <c>config</c> file; the worker interprets them.</summary>
public sealed record SourceDefinition(string Type, IReadOnlyDictionary<string, string> Settings)
{
    /// <summary>Value equality over the settings too, so a reload can tell a changed job from an
    /// unchanged one.</summary>
    public bool Equals(SourceDefinition? other) =>
        other is not null && Type == other.Type && Settings.Count == other.Settings.Count
        && Settings.All(kv => other.Settings.TryGetValue(kv.Key, out var v) && v == kv.Value);

    public override int GetHashCode() => HashCode.Combine(Type, Settings.Count);
}
