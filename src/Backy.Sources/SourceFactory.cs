using Backy.Storage;
using Backy.Storage.Backup;
using Backy.Storage.Jobs;

namespace Backy.Sources;

/// <summary>
/// Makes a job's source from its config, keyed by <c>source.type</c>. Adding a source type is one
/// <see cref="Register"/> line in <see cref="CreateDefault"/>: the source's <see cref="SourceSchema"/>
/// (its settings, declared once in the source's own class) and its maker. The daemon checks backy.conf
/// against the same <see cref="Schemas"/>, so the two never disagree.
/// </summary>
public sealed class SourceFactory : ISourceFactory
{
    private readonly Dictionary<string, (SourceSchema Schema, Func<SourceConfig, SourceContext, IBackupSource> Make)> _types = new(StringComparer.Ordinal);

    /// <summary>Every source type Backy ships.</summary>
    public static SourceFactory CreateDefault() => new SourceFactory()
        .Register(FileSource.Schema, FileSource.Create)
        .Register(Ceph.CephRbdSource.Schema, Ceph.CephRbdSource.Create)
        .Register(Ceph.CephRbdSource.Schema.Alias(Ceph.CephRbdSource.AliasTypeName), Ceph.CephRbdSource.Create)
        .Register(Ceph.FlyingCircusSource.Schema, Ceph.FlyingCircusSource.Create);

    public SourceFactory Register(SourceSchema schema, Func<SourceConfig, SourceContext, IBackupSource> maker)
    {
        _types[schema.Type] = (schema, maker);
        return this;
    }

    public IReadOnlyCollection<string> Types => _types.Keys;

    /// <summary>Each type's settings, for the daemon's up-front check of backy.conf.</summary>
    public IReadOnlyDictionary<string, SourceSchema> Schemas => _types.ToDictionary(t => t.Key, t => t.Value.Schema, StringComparer.Ordinal);

    public IBackupSource Create(SourceConfig config, SourceContext context)
    {
        if (!_types.TryGetValue(config.Type, out var type))
            throw new ConfigException($"source.type: unknown source type '{config.Type}' (known: {string.Join(", ", _types.Keys.Order(StringComparer.Ordinal))})");
        type.Schema.Validate(config);
        return type.Make(config, context);
    }
}
