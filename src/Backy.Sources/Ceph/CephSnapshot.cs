using Backy.Storage.Backup;
using Microsoft.Extensions.Logging;

namespace Backy.Sources.Ceph;

/// <summary>
/// One backup's snapshot <c>backy-&lt;revision&gt;</c>: read whole through <c>rbd export</c>, as a diff through
/// <c>rbd export-diff --from-snap backy-&lt;parent&gt;</c>, and sampled through librbd for the verification.
/// </summary>
internal sealed partial class CephSnapshot : ISourceSnapshot
{
    private readonly CephRbdSource _source;
    private readonly string _name;
    private readonly SnapshotRequest _request;
    private readonly ILogger _logger;
    private readonly Lazy<RbdSnapshotReader> _reader;

    private readonly IReadOnlyList<RbdSnapshot> _snapshots;

    /// <param name="snapshots">The image's snapshots right after this one was taken.</param>
    public CephSnapshot(CephRbdSource source, string name, long size, IReadOnlyList<RbdSnapshot> snapshots, SnapshotRequest request, ILogger logger)
    {
        _snapshots = snapshots;
        _source = source;
        _name = name;
        Size = size;
        _request = request;
        _logger = logger;
        // Opened only when the verification first reads: a full read never needs a librados connection.
        _reader = new Lazy<RbdSnapshotReader>(() => RbdSnapshotReader.Open(source.Options, source.Image, name), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public long Size { get; }

    public VerificationPolicy Verification => VerificationPolicy.Sampled;

    public Task<ISourceDiff?> OpenDiffAsync(CancellationToken cancellationToken)
    {
        if (_source.FullAlways || !_request.AllowDiff || _request.ParentRevisionId is not { } parent) return Task.FromResult<ISourceDiff?>(null);
        var from = CephRbdSource.SnapshotName(parent);
        if (!_snapshots.Any(s => s.Name == from))
        {
            LogParentSnapshotGone(_logger, _source.Image.At(from));
            return Task.FromResult<ISourceDiff?>(null);
        }
        LogDiff(_logger, _source.Image.At(_name), from);
        return Task.FromResult<ISourceDiff?>(
            new RbdDiffReader(_source.Rbd.ExportDiff(_source.Image, from, _name), $"rbd export-diff --from-snap {from} {_source.Image.At(_name)}", Size));
    }

    public Task<Stream> OpenFullReadAsync(CancellationToken cancellationToken) =>
        Task.FromResult(_source.Rbd.Export(_source.Image, _name, Size));

    public ValueTask<int> ReadAtAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken) =>
        // librbd reads block the calling thread; keep them off the caller's.
        new(Task.Run(() => _reader.Value.ReadAt(offset, buffer.Span), cancellationToken));

    public Task CompleteAsync(bool success, CancellationToken cancellationToken)
    {
        // Close the librbd handle before removing the snapshot it has open.
        if (_reader.IsValueCreated) _reader.Value.Dispose();
        return _source.CleanUpSnapshotsAsync(_name, success, _snapshots);
    }

    public ValueTask DisposeAsync()
    {
        if (_reader.IsValueCreated) _reader.Value.Dispose();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 3120, Level = LogLevel.Warning, Message = "parent snapshot {Snapshot} is gone: reading the whole image and comparing with the parent's blocks")]
    private static partial void LogParentSnapshotGone(ILogger logger, string snapshot);

    [LoggerMessage(EventId = 3121, Level = LogLevel.Information, Message = "reading {Snapshot} as a diff from {From}")]
    private static partial void LogDiff(ILogger logger, string snapshot, string from);
}
