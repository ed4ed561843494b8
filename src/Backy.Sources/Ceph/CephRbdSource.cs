using Backy.Storage;
using Backy.Storage.Backup;
using Backy.Storage.Jobs;
using Microsoft.Extensions.Logging;

namespace Backy.Sources.Ceph;

/// <summary>
/// The <c>ceph-rbd</c> source (alias <c>ceph</c>): <c>pool</c>, <c>image</c>, <c>full-always</c>. Every backup
/// takes snapshot <c>backy-&lt;revision&gt;</c> and reads it either as a diff from the parent revision's snapshot
/// (<c>rbd export-diff</c>) or whole (<c>rbd export</c>). Afterwards only the newest revision's snapshot is kept
/// (none with full-always); snapshots not named <c>backy-*</c> are never touched.
/// </summary>
public partial class CephRbdSource : IBackupSource
{
    public const string TypeName = "ceph-rbd";
    public const string AliasTypeName = "ceph";

    /// <summary>Prefix of every snapshot Backy owns; nothing else is ever removed.</summary>
    public const string SnapshotPrefix = "backy-";

    protected static readonly string[] Keys = ["pool", "image", "full-always"];

    private readonly ILogger _logger;

    public CephRbdSource(RbdImageSpec image, bool fullAlways, CephClientOptions options, ILoggerFactory loggerFactory)
    {
        Image = image;
        FullAlways = fullAlways;
        Options = options;
        Rbd = new RbdCli(options, loggerFactory.CreateLogger<RbdCli>());
        _logger = loggerFactory.CreateLogger(GetType());
    }

    public RbdImageSpec Image { get; }
    public bool FullAlways { get; }
    public CephClientOptions Options { get; }
    internal RbdCli Rbd { get; }

    public static CephRbdSource Create(SourceConfig config, SourceContext context)
    {
        config.RejectUnknownKeys(Keys);
        return new CephRbdSource(ImageFrom(config), config.Flag("full-always", false), CephClientOptions.FromEnvironment(), context.LoggerFactory);
    }

    protected static RbdImageSpec ImageFrom(SourceConfig config) => new(config.Required("pool"), config.Required("image"));

    public static string SnapshotName(string revisionId) => SnapshotPrefix + revisionId;

    public async Task<ISourceSnapshot> OpenSnapshotAsync(SnapshotRequest request, CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var name = SnapshotName(request.RevisionId);
        await TakeSnapshotAsync(name, cancellationToken).ConfigureAwait(false);
        try
        {
            var info = await Rbd.InfoAsync(Image, name, cancellationToken).ConfigureAwait(false)
                ?? throw new BackyException($"cannot read source {Image}: snapshot {name} vanished right after it was taken");
            return new CephSnapshot(this, name, info.Size, request, _logger);
        }
        catch
        {
            await RemoveQuietlyAsync(name).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>"Ready" = the image exists and the cluster answers; anything else is a one-line reason.</summary>
    private async Task EnsureReadyAsync(CancellationToken cancellationToken)
    {
        RbdImageInfo? info;
        try
        {
            info = await Rbd.InfoAsync(Image, null, cancellationToken).ConfigureAwait(false);
        }
        catch (ExternalCommandException e)
        {
            throw new BackyException($"cannot read source {Image}: {e.Message}", e);
        }
        if (info is null) throw new BackyException($"cannot read source {Image}: pool or image does not exist");
    }

    /// <summary>Takes snapshot <paramref name="name"/>; flyingcircus asks the hypervisor to take it frozen.</summary>
    protected virtual Task TakeSnapshotAsync(string name, CancellationToken cancellationToken) =>
        Rbd.CreateSnapshotAsync(Image, name, cancellationToken);

    /// <summary>
    /// After a backup: on success keep only <paramref name="keep"/> among the backy snapshots (none with
    /// full-always); on failure remove just this backup's snapshot so the parent's still serves the next diff.
    /// Cleanup problems are logged, never thrown: the revision's fate is already decided.
    /// </summary>
    internal async Task CleanUpSnapshotsAsync(string own, bool success)
    {
        if (!success)
        {
            await RemoveQuietlyAsync(own).ConfigureAwait(false);
            return;
        }
        IReadOnlyList<RbdSnapshot> all;
        try
        {
            using var timeout = new CancellationTokenSource(CleanupTimeout);
            all = await Rbd.ListSnapshotsAsync(Image, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is BackyException or OperationCanceledException)
        {
            LogCleanupFailed(_logger, Image.ToString(), "(list)", e.Message);
            return;
        }
        foreach (var snap in all.Where(s => s.Name.StartsWith(SnapshotPrefix, StringComparison.Ordinal)))
        {
            if (snap.Name == own && !FullAlways) continue;
            await RemoveQuietlyAsync(snap.Name).ConfigureAwait(false);
        }
    }

    // A dead cluster must not keep a finished backup waiting for long; the client timeouts bound each call too.
    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromMinutes(2);

    private async Task RemoveQuietlyAsync(string name)
    {
        try
        {
            using var timeout = new CancellationTokenSource(CleanupTimeout);
            await Rbd.RemoveSnapshotAsync(Image, name, timeout.Token).ConfigureAwait(false);
            LogRemovedSnapshot(_logger, Image.At(name));
        }
        catch (Exception e) when (e is BackyException or OperationCanceledException)
        {
            LogCleanupFailed(_logger, Image.ToString(), name, e.Message);
        }
    }

    [LoggerMessage(EventId = 3110, Level = LogLevel.Information, Message = "removed snapshot {Snapshot}")]
    private static partial void LogRemovedSnapshot(ILogger logger, string snapshot);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Warning, Message = "could not remove snapshot {Snapshot} of {Image}: {Reason}")]
    private static partial void LogCleanupFailed(ILogger logger, string image, string snapshot, string reason);
}
