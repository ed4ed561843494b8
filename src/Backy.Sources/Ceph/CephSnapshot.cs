using Backy.Storage.Backup;
using Microsoft.Extensions.Logging;

namespace Backy.Sources.Ceph;

/// <summary>
/// One backup's snapshot <c>backy-&lt;revision&gt;</c>, open read-only through librbd on the backup's one
/// connection: read whole by the engine's concurrent positional reads (<see cref="FullReadConcurrency"/> blocks in
/// flight, straight into its buffers), as a diff from <c>backy-&lt;parent&gt;</c> (<c>rbd_diff_iterate2</c> plus
/// read-ahead of the changed extents), and sampled for the verification.
/// </summary>
internal sealed partial class CephSnapshot : ISourceSnapshot
{
    /// <summary>
    /// 4 MiB reads in flight during a full read. One at a time waited for the OSD most of the time (3.0 s against
    /// rbd export's 1.45 s for 2 GiB, with a core idle); rbd export itself keeps 10 in flight
    /// (rbd_concurrent_management_ops). 8 hides the latency on a single-node cluster and costs 8 block buffers.
    /// </summary>
    public const int ReadConcurrency = 8;

    private readonly CephRbdSource _source;
    private readonly RbdSession _session;
    private readonly RbdImage _image;
    private readonly string _name;
    private readonly SnapshotRequest _request;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<RbdSnapshot> _snapshots;
    private readonly Task? _staleRemoved;
    private bool _closed;

    /// <param name="snapshots">The image's snapshots right after this one was taken.</param>
    /// <param name="staleRemoved">The removal of the older snapshots, started beside the create (or null).</param>
    public CephSnapshot(CephRbdSource source, RbdSession session, RbdImage image, string name, IReadOnlyList<RbdSnapshot> snapshots,
        SnapshotRequest request, Task? staleRemoved, ILogger logger)
    {
        _staleRemoved = staleRemoved;
        _source = source;
        _session = session;
        _image = image;
        _name = name;
        _snapshots = snapshots;
        _request = request;
        _logger = logger;
    }

    public long Size => _image.Size;

    public VerificationPolicy Verification => VerificationPolicy.Sampled;

    public bool ParallelFullRead => true;

    public int FullReadConcurrency => ReadConcurrency;

    public async Task<ISourceDiff?> OpenDiffAsync(CancellationToken cancellationToken)
    {
        if (_source.FullAlways || !_request.AllowDiff || _request.ParentRevisionId is not { } parent) return null;
        var from = CephRbdSource.SnapshotName(parent);
        if (!_snapshots.Any(s => s.Name == from))
        {
            LogParentSnapshotGone(_logger, _source.Image.At(from));
            return null;
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var fastDiff = _image.HasValidFastDiff;
        // The iteration blocks (one object-map read with fast-diff, one request per object without): off the caller's thread.
        var extents = await Task.Run(() => _image.DiffFrom(from, wholeObject: fastDiff), cancellationToken).ConfigureAwait(false);
        var diff = new RbdDiff(_image, extents);
        LogDiff(_logger, _source.Image.At(_name), from, fastDiff ? "fast-diff" : "per-object", extents.Count, diff.DataBytes, clock.Elapsed.TotalSeconds);
        return diff;
    }

    public Task<Stream> OpenFullReadAsync(CancellationToken cancellationToken) => Task.FromResult<Stream>(new RbdReadStream(_image));

    public ValueTask<int> ReadAtAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return _image.ReadAsync(offset, buffer);
    }

    public async Task CompleteAsync(bool success, CancellationToken cancellationToken)
    {
        // Close the snapshot's handle before removing the snapshot it has open.
        _image.Dispose();
        try
        {
            if (_staleRemoved is { } stale) await WaitQuietlyAsync(stale, _source, _logger).ConfigureAwait(false);
            // Success keeps this snapshot for the next diff; the parent's goes at the next backup (CephRbdSource.RemoveStaleSnapshots).
            if (!success || _source.FullAlways) _source.RemoveQuietly(_session.Head, _name);
        }
        finally
        {
            await CloseAsync().ConfigureAwait(false);
        }
    }

    // RemoveStaleSnapshots logs its failures and throws nothing the backup should see; a surprise is logged, not lost.
    internal static async Task WaitQuietlyAsync(Task removal, CephRbdSource source, ILogger logger)
    {
        try { await removal.ConfigureAwait(false); }
        catch (Exception e) { LogOlderRemovalFailed(logger, source.Image.ToString(), e.Message); }
    }

    public ValueTask DisposeAsync() => new(CloseAsync());

    private async Task CloseAsync()
    {
        if (_closed) return;
        _closed = true;
        // The background removals use the head handle: never close it under them.
        if (_staleRemoved is { } stale) await WaitQuietlyAsync(stale, _source, _logger).ConfigureAwait(false);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        _image.Dispose();
        _session.Dispose(); // rbd_close of the head (its watch) and rados_shutdown
        LogClosed(_logger, _source.Image.ToString(), clock.Elapsed.TotalSeconds);
    }

    [LoggerMessage(EventId = 3123, Level = LogLevel.Debug, Message = "closed the images and the connection of {Image} in {Seconds:0.000} s")]
    private static partial void LogClosed(ILogger logger, string image, double seconds);

    [LoggerMessage(EventId = 3120, Level = LogLevel.Warning, Message = "parent snapshot {Snapshot} is gone: reading the whole image and comparing with the parent's blocks")]
    private static partial void LogParentSnapshotGone(ILogger logger, string snapshot);

    [LoggerMessage(EventId = 3121, Level = LogLevel.Information, Message = "reading {Snapshot} as a diff from {From} ({Method}: {Extents} extents, {DataBytes} bytes of data; found in {Seconds:0.000} s)")]
    private static partial void LogDiff(ILogger logger, string snapshot, string from, string method, int extents, long dataBytes, double seconds);

    [LoggerMessage(EventId = 3122, Level = LogLevel.Warning, Message = "removing the older snapshots of {Image} failed: {Reason}")]
    private static partial void LogOlderRemovalFailed(ILogger logger, string image, string reason);
}
