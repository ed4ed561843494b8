using Backy.Storage.Backup;

namespace Backy.Tests.Storage.Support;

/// <summary>
/// A source implementing the contract over byte arrays: <see cref="Image"/> is what the backup reads;
/// <see cref="VerifyImage"/> (default: the same) is what the post-backup verification reads, so a test can
/// make the source change in between. <see cref="Diff"/>, when set, is offered as the diff against the parent.
/// </summary>
public sealed class MemorySource : IBackupSource
{
    public required byte[] Image { get; set; }
    public byte[]? VerifyImage { get; set; }
    public IReadOnlyList<(DiffExtent Extent, byte[]? Data)>? Diff { get; set; }
    public VerificationPolicy Verification { get; set; } = VerificationPolicy.Full;
    public SnapshotRequest? LastRequest { get; private set; }
    public bool? Completed { get; private set; }
    public bool FullReadUsed { get; private set; }

    public Task<ISourceSnapshot> OpenSnapshotAsync(SnapshotRequest request, CancellationToken cancellationToken)
    {
        LastRequest = request;
        return Task.FromResult<ISourceSnapshot>(new Snapshot(this, request));
    }

    private sealed class Snapshot(MemorySource source, SnapshotRequest request) : ISourceSnapshot
    {
        public long Size => source.Image.LongLength;
        public VerificationPolicy Verification => source.Verification;

        public Task<ISourceDiff?> OpenDiffAsync(CancellationToken cancellationToken) =>
            Task.FromResult<ISourceDiff?>(request.AllowDiff && source.Diff is not null ? new DiffReader(source.Diff) : null);

        public Task<Stream> OpenFullReadAsync(CancellationToken cancellationToken)
        {
            source.FullReadUsed = true;
            return Task.FromResult<Stream>(new MemoryStream(source.Image, writable: false));
        }

        public ValueTask<int> ReadAtAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
        {
            var image = source.VerifyImage ?? source.Image;
            var n = (int)Math.Max(0, Math.Min(buffer.Length, image.LongLength - offset));
            image.AsMemory((int)offset, n).CopyTo(buffer);
            return ValueTask.FromResult(n);
        }

        public Task CompleteAsync(bool success, CancellationToken cancellationToken)
        {
            source.Completed = success;
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class DiffReader(IReadOnlyList<(DiffExtent Extent, byte[]? Data)> extents) : ISourceDiff
    {
        private int _next;
        private byte[]? _data;
        private int _pos;

        public ValueTask<DiffExtent?> ReadNextExtentAsync(CancellationToken cancellationToken)
        {
            if (_next >= extents.Count) return ValueTask.FromResult<DiffExtent?>(null);
            var (extent, data) = extents[_next++];
            _data = data;
            _pos = 0;
            return ValueTask.FromResult<DiffExtent?>(extent);
        }

        public ValueTask ReadDataAsync(Memory<byte> destination, CancellationToken cancellationToken)
        {
            _data.AsMemory(_pos, destination.Length).CopyTo(destination);
            _pos += destination.Length;
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
