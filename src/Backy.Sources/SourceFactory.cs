using Backy.Storage;
using Backy.Storage.Backup;
using Backy.Storage.Jobs;

namespace Backy.Sources;

/// <summary>
/// Makes a job's source from its config, keyed by <c>source.type</c>. Adding a source type is one
/// <see cref="Register"/> line in <see cref="CreateDefault"/>.
/// </summary>
public sealed class SourceFactory : ISourceFactory
{
    private readonly Dictionary<string, Func<SourceConfig, SourceContext, IBackupSource>> _makers = new(StringComparer.Ordinal);

    /// <summary>Every source type Backy ships.</summary>
    public static SourceFactory CreateDefault() => new SourceFactory()
        .Register(FileSource.TypeName, FileSource.Create)
        .Register(Ceph.CephRbdSource.TypeName, Ceph.CephRbdSource.Create)
        .Register(Ceph.CephRbdSource.AliasTypeName, Ceph.CephRbdSource.Create)
        .Register(Ceph.FlyingCircusSource.TypeName, Ceph.FlyingCircusSource.Create);

    public SourceFactory Register(string type, Func<SourceConfig, SourceContext, IBackupSource> maker)
    {
        _makers[type] = maker;
        return this;
    }

    public IReadOnlyCollection<string> Types => _makers.Keys;

    public IBackupSource Create(SourceConfig config, SourceContext context) =>
        _makers.TryGetValue(config.Type, out var make)
            ? make(config, context)
            : throw new ConfigException($"source.type: unknown source type '{config.Type}' (known: {string.Join(", ", _makers.Keys.Order(StringComparer.Ordinal))})");
}
