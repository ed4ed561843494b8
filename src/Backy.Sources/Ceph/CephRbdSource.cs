using Backy.Storage;
using Backy.Storage.Backup;
using Backy.Storage.Jobs;
using Microsoft.Extensions.Logging;

namespace Backy.Sources.Ceph;

/// <summary>
/// The <c>ceph-rbd</c> source (alias <c>ceph</c>): <c>pool</c>, <c>image</c>, <c>full-always</c>. Every backup
/// takes snapshot <c>backy-&lt;revision&gt;</c> and reads it either as a diff from the parent revision's snapshot
/// (<c>rbd_diff_iterate2</c>) or whole (concurrent <c>rbd_aio_read</c>s), all through librbd on one connection
/// per backup. The older backy snapshots but the parent's are removed while the new one is taken, so after a
/// backup its own and its parent's snapshot remain (none with full-always; <see cref="RemoveStaleSnapshots"/>
/// says why); snapshots not named <c>backy-*</c> are never touched.
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
        Task? staleRemoved = null;
        try
        {
            // The older snapshots go while this one is taken (see RemoveStaleSnapshots): one monitor commit for both.
            var stale = StaleSnapshots(session.Head.ListSnapshots(), request);
            if (stale.Count > 0) staleRemoved = Task.Run(() => RemoveStaleSnapshots(session.Head, stale), CancellationToken.None);
            await TakeSnapshotAsync(session.Head, name, cancellationToken).ConfigureAwait(false);
            taken = true;
            var created = clock.Elapsed;
            var snapshots = session.Head.ListSnapshots();
            if (!snapshots.Any(s => s.Name == name))
                throw new BackyException($"cannot read source {Image}: snapshot {name} vanished right after it was taken");
            // Made while this one was taken: by the hypervisor's agent answering an old request (flyingcircus).
            if (StaleSnapshots(snapshots, request).Except(stale).ToList() is { Count: > 0 } late) staleRemoved = RemoveLateAsync(staleRemoved, session.Head, late);
            var image = Ready(() => session.Connection.OpenImage(Image.Image, name));
            LogSnapshotOpened(_logger, Image.At(name), clock.Elapsed.TotalSeconds, connected.TotalSeconds, (created - connected).TotalSeconds,
                (clock.Elapsed - created).TotalSeconds);
            return new CephSnapshot(this, session, image, name, snapshots, request, staleRemoved, _logger);
        }
        catch
        {
            // The removals use the head handle: never close it under them.
            if (staleRemoved is not null) await CephSnapshot.WaitQuietlyAsync(staleRemoved, this, _logger).ConfigureAwait(false);
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
    /// The backy snapshots this backup makes obsolete: every one but the parent's (which serves this backup's diff,
    /// and stays until the next backup, so that a failure of this one still leaves the next a diff). With
    /// full-always, or when the engine allows no diff, the parent's too. Snapshots not named <c>backy-*</c> are never
    /// touched. The list is the one from before this backup's snapshot: only Backy makes backy-* snapshots, and the
    /// job's backup lock keeps a second backup of this job from making one meanwhile.
    /// </summary>
    internal List<string> StaleSnapshots(IReadOnlyList<RbdSnapshot> before, SnapshotRequest request)
    {
        var keep = !FullAlways && request.AllowDiff && request.ParentRevisionId is { } parent ? SnapshotName(parent) : null;
        var own = SnapshotName(request.RevisionId);
        return [.. before.Select(s => s.Name).Where(n => n.StartsWith(SnapshotPrefix, StringComparison.Ordinal) && n != keep && n != own)];
    }

    /// <summary>
    /// Removes the stale backy snapshots, on a background task that runs while this backup's snapshot is taken.
    /// Each snapshot create and remove is a monitor commit (a new OSD map), and a monitor batches the commits that
    /// come within <c>paxos propose interval</c> (1 s) of the previous one: a removal after the create waited up to
    /// 1 s for the next batch (0.3-0.8 s of a 1.5 s incremental backup, measured), while a removal sent beside the
    /// create goes into the same batch (the rbd CLI, two processes: create alone 0.42-0.52 s, create then remove
    /// 1.5-2.2 s, both at once 0.45-0.56 s). Hence the parent's snapshot stays after a successful backup and goes at
    /// the next one: two backy snapshots per image between backups instead of one (the second holds the changes of
    /// one backup interval). The backup waits for the removals before it ends, so the worker never exits in the
    /// middle of one. Problems are logged, never thrown.
    /// </summary>
    internal void RemoveStaleSnapshots(RbdImage head, IReadOnlyList<string> stale)
    {
        foreach (var name in stale) RemoveQuietly(head, name);
    }

    // After the removals started before the create, one at a time on the head handle.
    private async Task RemoveLateAsync(Task? before, RbdImage head, List<string> late)
    {
        if (before is not null) await before.ConfigureAwait(false);
        await Task.Run(() => RemoveStaleSnapshots(head, late), CancellationToken.None).ConfigureAwait(false);
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
