using Backy.Storage;
using Backy.Storage.Backup;
using Backy.Storage.Jobs;
using Microsoft.Extensions.Logging;

namespace Backy.Sources.Ceph;

/// <summary>
/// The <c>ceph-rbd</c> source (alias <c>ceph</c>): <c>pool</c>, <c>image</c>, <c>full-always</c>. Every backup
/// takes snapshot <c>backy-&lt;revision&gt;</c> and reads it either as a diff from the parent revision's snapshot
/// (<c>rbd_diff_iterate2</c>) or whole (concurrent <c>rbd_aio_read</c>s), all through librbd on one connection
/// per backup. Afterwards only the newest revision's snapshot is kept (none with full-always); snapshots not
/// named <c>backy-*</c> are never touched.
/// </summary>
public partial class CephRbdSource : IBackupSource, IAsyncDisposable
{
    public const string TypeName = "ceph-rbd";
    public const string AliasTypeName = "ceph";

    /// <summary>Prefix of every snapshot Backy owns; nothing else is ever removed.</summary>
    public const string SnapshotPrefix = "backy-";

    /// <summary>Settings of ceph-rbd (and its alias ceph); flyingcircus adds its own to these.</summary>
    protected static readonly SourceSetting[] Settings =
        [SourceSetting.Text("pool", required: true), SourceSetting.Text("image", required: true), SourceSetting.Flag("full-always")];

    public static readonly SourceSchema Schema = new(TypeName, Settings);

    private readonly ILogger _logger;
    private Task<RbdSession>? _connecting;

    public CephRbdSource(RbdImageSpec image, bool fullAlways, CephClientOptions options, ILoggerFactory loggerFactory)
    {
        Image = image;
        FullAlways = fullAlways;
        Options = options;
        _logger = loggerFactory.CreateLogger(GetType());
    }

    public RbdImageSpec Image { get; }
    public bool FullAlways { get; }
    public CephClientOptions Options { get; }

    /// <summary>The factory's source serves one backup, so it starts connecting at once (<see cref="StartConnecting"/>).</summary>
    public static CephRbdSource Create(SourceConfig config, SourceContext context)
    {
        var source = new CephRbdSource(ImageFrom(config), config.Flag("full-always", false), CephClientOptions.FromEnvironment(), context.LoggerFactory);
        source.StartConnecting();
        return source;
    }

    /// <summary>
    /// Starts connecting (librados client, pool, the image's head handle) on the thread pool; the next
    /// <see cref="OpenSnapshotAsync"/> takes that connection instead of making its own. The worker's backup makes
    /// its source before the engine takes the job's locks, lists the revisions, writes and fsyncs the new .rev and
    /// reads the parent's chunk map, and the connection (loading librados, a monitor round trip, the maps, opening
    /// the head) is made meanwhile: it mostly waits for the cluster, not for a core. A failure surfaces in
    /// <see cref="OpenSnapshotAsync"/>; a connection nobody took is closed by <see cref="DisposeAsync"/>.
    /// </summary>
    public void StartConnecting() => _connecting ??= ConnectAsync();

    /// <summary>A connection made ahead is ready and waits for the next snapshot (tests).</summary>
    internal bool HasConnectionReady => _connecting is { IsCompletedSuccessfully: true };

    // Connecting can wait up to the client mount timeout: off the caller's thread.
    private Task<RbdSession> ConnectAsync() => Task.Run(() => Ready(() => RbdSession.Open(Options, Image)));

    protected static RbdImageSpec ImageFrom(SourceConfig config) => new(config.Required("pool"), config.Required("image"));

    public static string SnapshotName(string revisionId) => SnapshotPrefix + revisionId;

    public async Task<ISourceSnapshot> OpenSnapshotAsync(SnapshotRequest request, CancellationToken cancellationToken)
    {
        var name = SnapshotName(request.RevisionId);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // "Ready" = the image opens: the cluster answers and pool and image exist.
        var session = await TakeConnectionAsync(cancellationToken).ConfigureAwait(false);
        var connected = clock.Elapsed;
        var taken = false;
        try
        {
            await TakeSnapshotAsync(session.Head, name, cancellationToken).ConfigureAwait(false);
            taken = true;
            var created = clock.Elapsed;
            var snapshots = session.Head.ListSnapshots();
            if (!snapshots.Any(s => s.Name == name))
                throw new BackyException($"cannot read source {Image}: snapshot {name} vanished right after it was taken");
            var image = Ready(() => session.Connection.OpenImage(Image.Image, name));
            LogSnapshotOpened(_logger, Image.At(name), clock.Elapsed.TotalSeconds, connected.TotalSeconds, (created - connected).TotalSeconds,
                (clock.Elapsed - created).TotalSeconds);
            return new CephSnapshot(this, session, image, name, snapshots, request, _logger);
        }
        catch
        {
            if (taken) RemoveQuietly(session.Head, name);
            session.Dispose();
            throw;
        }
    }

    /// <summary>The connection <see cref="StartConnecting"/> started, else a new one; each serves one snapshot.</summary>
    private async Task<RbdSession> TakeConnectionAsync(CancellationToken cancellationToken)
    {
        var connecting = Interlocked.Exchange(ref _connecting, null) ?? ConnectAsync();
        try
        {
            return await connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!connecting.IsCompleted)
        {
            _ = CloseWhenDoneAsync(connecting);
            throw;
        }
    }

    private static async Task CloseWhenDoneAsync(Task<RbdSession> connecting)
    {
        try { (await connecting.ConfigureAwait(false)).Dispose(); }
        catch (BackyException) { /* a connection nobody uses: its failure concerns nobody */ }
    }

    /// <summary>Closes a connection that <see cref="StartConnecting"/> made and no snapshot took (the backup failed before).</summary>
    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (Interlocked.Exchange(ref _connecting, null) is { } connecting) await CloseWhenDoneAsync(connecting).ConfigureAwait(false);
    }

    /// <summary>Runs a librbd step and turns its failure into a one-line reason naming the image.</summary>
    protected T Ready<T>(Func<T> step)
    {
        try
        {
            return step();
        }
        catch (LibRbdException e) when (e.NotFound)
        {
            throw new BackyException($"cannot read source {Image}: pool or image does not exist", e);
        }
        catch (LibRbdException e) when (e.NoCluster)
        {
            throw new BackyException($"cannot read source {Image}: cannot connect to the Ceph cluster ({e.ErrnoText}; check CEPH_ARGS/CEPH_CONF, the monitors and the keyring)", e);
        }
        catch (LibRbdException e)
        {
            throw new BackyException($"cannot read source {Image}: {e.Message}", e);
        }
    }

    /// <summary>Takes snapshot <paramref name="name"/>; flyingcircus asks the hypervisor to take it frozen.</summary>
    protected virtual Task TakeSnapshotAsync(RbdImage head, string name, CancellationToken cancellationToken)
    {
        Ready(() => { head.CreateSnapshot(name); return true; });
        return Task.CompletedTask;
    }

    /// <summary>
    /// After a backup: on success keep only <paramref name="own"/> among the backy snapshots (none with
    /// full-always); on failure remove just this backup's snapshot so the parent's still serves the next diff.
    /// Cleanup problems are logged, never thrown: the revision's fate is already decided.
    /// </summary>
    internal void CleanUpSnapshots(RbdImage head, string own, bool success, IReadOnlyList<RbdSnapshot> known)
    {
        if (success) RemoveOlderSnapshots(head, own, known);
        if (!success || FullAlways) RemoveQuietly(head, own);
    }

    /// <summary>
    /// Removes every backy snapshot but <paramref name="own"/>. <see cref="CephSnapshot.DataStored"/> starts this
    /// as soon as the revision's chunks are committed, on a background task beside the chunk-map write and the
    /// verification: each removal is a monitor commit (a new OSD map; 0.1-1 s on a busy cluster), the largest
    /// fixed cost of an incremental backup after the snapshot's creation. The diff has been read by then, so the
    /// parent's snapshot serves nothing more; should the backup still fail (verification mismatch, chunk map
    /// not writable), the next backup finds no parent snapshot and reads the image in full, comparing with the
    /// parent's hashes: slower, never wrong. The backup waits for the removals before it ends, so the worker never
    /// exits in the middle of one.
    /// </summary>
    internal void RemoveOlderSnapshots(RbdImage head, string own, IReadOnlyList<RbdSnapshot> known)
    {
        // The list from the start of the backup: only Backy makes backy-* snapshots, and the job's backup lock
        // keeps a second backup of this job from making one meanwhile.
        foreach (var snap in known.Where(s => s.Name.StartsWith(SnapshotPrefix, StringComparison.Ordinal) && s.Name != own))
            RemoveQuietly(head, snap.Name);
    }

    // A dead cluster cannot keep this waiting forever: the client's "rados osd op timeout" bounds each call.
    internal void RemoveQuietly(RbdImage head, string name)
    {
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            RemoveSnapshot(head, name);
            LogRemovedSnapshot(_logger, Image.At(name), clock.Elapsed.TotalSeconds);
        }
        catch (LibRbdException e) when (e.Errno == LibRbdException.EBUSY && e.What.StartsWith("unprotecting", StringComparison.Ordinal))
        {
            LogKeptForClones(_logger, Image.At(name));
        }
        catch (Exception e) when (e is BackyException or ObjectDisposedException)
        {
            LogCleanupFailed(_logger, Image.ToString(), name, e.Message);
        }
    }

    /// <summary>
    /// Removes a backy snapshot, lifting its protection first if someone protected it. Backy itself never protects
    /// (protection exists for format-1 clones, and Backy makes no clones); an operator protects a backy snapshot to
    /// clone it, e.g. to boot a revision's state. While such clones exist librbd refuses the unprotect (EBUSY) and
    /// the snapshot stays: removing it would break them. Once they are flattened or removed, the protection guards
    /// nothing and the next successful backup removes the snapshot, so backy snapshots do not pile up.
    /// </summary>
    private static void RemoveSnapshot(RbdImage head, string name)
    {
        try
        {
            head.RemoveSnapshot(name);
        }
        catch (LibRbdException e) when (e.Errno == LibRbdException.EBUSY && head.IsSnapshotProtected(name))
        {
            head.UnprotectSnapshot(name);
            head.RemoveSnapshot(name);
        }
    }

    [LoggerMessage(EventId = 3110, Level = LogLevel.Information, Message = "removed snapshot {Snapshot} in {Seconds:0.000} s")]
    private static partial void LogRemovedSnapshot(ILogger logger, string snapshot, double seconds);

    [LoggerMessage(EventId = 3113, Level = LogLevel.Debug,
        Message = "snapshot {Snapshot} open in {Seconds:0.000} s (connect and open the head, or wait for the connection made meanwhile {Connect:0.000} s, take the snapshot {Take:0.000} s, list and open it {Open:0.000} s)")]
    private static partial void LogSnapshotOpened(ILogger logger, string snapshot, double seconds, double connect, double take, double open);

    [LoggerMessage(EventId = 3112, Level = LogLevel.Warning, Message = "kept snapshot {Snapshot}: it is protected and has clones (flatten or remove them, and the next backup removes it)")]
    private static partial void LogKeptForClones(ILogger logger, string snapshot);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Warning, Message = "could not remove snapshot {Snapshot} of {Image}: {Reason}")]
    private static partial void LogCleanupFailed(ILogger logger, string image, string snapshot, string reason);
}
