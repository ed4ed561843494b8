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
        var name = SnapshotName(request.RevisionId);
        // Every rbd run costs a process start and a cluster connection (0.1-0.8 s measured here), so the
        // readiness check is the snapshot itself and one `snap ls` serves the size, the diff decision and the
        // cleanup afterwards.
        await Ready(() => TakeSnapshotAsync(name, cancellationToken)).ConfigureAwait(false);
        try
        {
            var snapshots = await Rbd.ListSnapshotsAsync(Image, cancellationToken).ConfigureAwait(false);
            var own = snapshots.FirstOrDefault(s => s.Name == name)
                ?? throw new BackyException($"cannot read source {Image}: snapshot {name} vanished right after it was taken");
            return new CephSnapshot(this, name, own.Size, snapshots, request, _logger);
        }
        catch
        {
            await RemoveQuietlyAsync(name).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// "Ready" = the image exists and the cluster answers: runs <paramref name="probe"/> (an rbd call on the
    /// image) and turns its failure into a one-line reason naming the image.
    /// </summary>
    protected async Task Ready(Func<Task> probe)
    {
        try
        {
            await probe().ConfigureAwait(false);
        }
        catch (ExternalCommandException e) when (RbdCli.IsNotFound(e.Stderr))
        {
            throw new BackyException($"cannot read source {Image}: pool or image does not exist", e);
        }
        catch (ExternalCommandException e) when (e.Stderr.Contains(RbdCli.NoCluster, StringComparison.Ordinal))
        {
            throw new BackyException($"cannot read source {Image}: cannot connect to the Ceph cluster (rbd exit code {e.ExitCode}; check CEPH_ARGS/CEPH_CONF, the monitors and the keyring)", e);
        }
        catch (ExternalCommandException e)
        {
            throw new BackyException($"cannot read source {Image}: {e.Message}", e);
        }
    }

    /// <summary>Takes snapshot <paramref name="name"/>; flyingcircus asks the hypervisor to take it frozen.</summary>
    protected virtual Task TakeSnapshotAsync(string name, CancellationToken cancellationToken) =>
        Rbd.CreateSnapshotAsync(Image, name, cancellationToken);

    /// <summary>
    /// After a backup: on success keep only <paramref name="keep"/> among the backy snapshots (none with
    /// full-always); on failure remove just this backup's snapshot so the parent's still serves the next diff.
    /// Cleanup problems are logged, never thrown: the revision's fate is already decided.
    /// </summary>
    internal async Task CleanUpSnapshotsAsync(string own, bool success, IReadOnlyList<RbdSnapshot> known)
    {
        if (!success)
        {
            await RemoveQuietlyAsync(own).ConfigureAwait(false);
            return;
        }
        // The list from the start of the backup: only Backy makes backy-* snapshots, and the job's backup lock
        // keeps a second backup of this job from making one meanwhile.
        foreach (var snap in known.Where(s => s.Name.StartsWith(SnapshotPrefix, StringComparison.Ordinal)))
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
