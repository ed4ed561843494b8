using Backy.Sources;
using Backy.Storage.Jobs;

namespace Backy.Daemon.Config;

/// <summary>The source types the worker understands and the settings each takes: the worker's own
/// declarations (<see cref="SourceFactory.Schemas"/>, one <see cref="SourceSchema"/> per source), so the
/// daemon's up-front check and the worker can never disagree. The daemon checks them when it reads the
/// configuration so a typo fails at start, not at 3 a.m. in a worker. (This is why Backy.Daemon references
/// Backy.Sources: for these declarations only; it never makes a source.)</summary>
internal static class SourceTypes
{
    private static readonly IReadOnlyDictionary<string, SourceSchema> Schemas = SourceFactory.CreateDefault().Schemas;

    public static IEnumerable<string> Names => Schemas.Keys.Order(StringComparer.Ordinal);

    public static bool IsKnown(string type) => Schemas.ContainsKey(type);

    /// <summary>Reasons why <paramref name="settings"/> do not fit <paramref name="type"/>, keyed by setting.</summary>
    public static IEnumerable<(string Key, string Reason)> Check(string type, IReadOnlyDictionary<string, string> settings) =>
        Schemas[type].Check(settings);
}
