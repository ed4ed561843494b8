using System.Buffers;
using Backy.Storage.Backup;

namespace Backy.Sources.Ceph;

/// <summary>
/// A snapshot's changes since the parent's snapshot, for the backup engine: the extents from
/// <see cref="RbdImage.DiffFrom"/>, and their data read ahead with up to <see cref="ReadAhead"/> concurrent
/// <c>rbd_aio_read</c>s of at most one 4 MiB object each (one request at a time would wait out the OSD's latency
/// for every changed object; the engine consumes the data in order, so reads are issued in that order and
/// copied into its block buffers as they are asked for).
/// </summary>
internal sealed class RbdDiff : ISourceDiff
{
    /// <summary>Requests in flight: enough to hide a round trip per object, few enough to stay at 32 MiB.</summary>
    public const int ReadAhead = 8;

    private const int PieceSize = 4 << 20;

    private readonly RbdImage _image;
    private readonly IReadOnlyList<DiffExtent> _extents;
    private readonly List<(long Offset, int Length)> _pieces = [];
    private readonly Queue<Task<byte[]>> _inFlight = new();
    private int _nextExtent;
    private int _nextPiece;       // next piece to start reading
    private byte[]? _current;     // the piece being consumed
    private int _currentLength, _currentUsed;
    private long _dataLeft;       // unread bytes of the current data extent

    public RbdDiff(RbdImage image, IReadOnlyList<DiffExtent> extents)
    {
        _image = image;
        _extents = extents;
        foreach (var e in extents.Where(e => !e.IsZero))
            for (var pos = e.Offset; pos < e.Offset + e.Length;)
            {
                // Cut at object (4 MiB) boundaries: every read then touches one object.
                var end = Math.Min(e.Offset + e.Length, (pos / PieceSize + 1) * PieceSize);
                _pieces.Add((pos, (int)(end - pos)));
                pos = end;
            }
        Fill();
    }

    public IReadOnlyList<DiffExtent> Extents => _extents;

    /// <summary>Bytes of data (not zeroes) the diff reads.</summary>
    public long DataBytes => _pieces.Sum(p => (long)p.Length);

    public async ValueTask<DiffExtent?> ReadNextExtentAsync(CancellationToken cancellationToken)
    {
        while (_dataLeft > 0) await SkipAsync(cancellationToken).ConfigureAwait(false);
        if (_nextExtent >= _extents.Count) return null;
        var extent = _extents[_nextExtent++];
        if (!extent.IsZero) _dataLeft = extent.Length;
        return extent;
    }

    public async ValueTask ReadDataAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (destination.Length > _dataLeft)
            throw new InvalidOperationException($"asked for {destination.Length} bytes but the current extent has {_dataLeft} left");
        while (destination.Length > 0)
        {
            await EnsurePieceAsync(cancellationToken).ConfigureAwait(false);
            var n = Math.Min(_currentLength - _currentUsed, destination.Length);
            _current.AsSpan(_currentUsed, n).CopyTo(destination.Span);
            Consume(n);
            destination = destination[n..];
        }
    }

    private async ValueTask SkipAsync(CancellationToken cancellationToken)
    {
        await EnsurePieceAsync(cancellationToken).ConfigureAwait(false);
        Consume((int)Math.Min(_currentLength - _currentUsed, _dataLeft));
    }

    private async ValueTask EnsurePieceAsync(CancellationToken cancellationToken)
    {
        if (_current is not null) return;
        var read = _inFlight.Dequeue();
        _current = await read.WaitAsync(cancellationToken).ConfigureAwait(false);
        _currentLength = _pieces[_nextPiece - _inFlight.Count - 1].Length;
        _currentUsed = 0;
        Fill();
    }

    private void Consume(int n)
    {
        _currentUsed += n;
        _dataLeft -= n;
        if (_currentUsed < _currentLength) return;
        ArrayPool<byte>.Shared.Return(_current!);
        _current = null;
    }

    private void Fill()
    {
        while (_inFlight.Count < ReadAhead && _nextPiece < _pieces.Count)
        {
            var (offset, length) = _pieces[_nextPiece++];
            _inFlight.Enqueue(ReadPieceAsync(offset, length));
        }
    }

    private async Task<byte[]> ReadPieceAsync(long offset, int length)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var read = await _image.ReadAsync(offset, buffer.AsMemory(0, length)).ConfigureAwait(false);
            if (read != length)
                throw new LibRbdException($"reading {length} bytes at offset {offset} (got {read})", _image.Spec, 5 /* EIO */);
            return buffer;
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // librbd writes into these buffers until each read completes: wait for all before giving them back.
        while (_inFlight.TryDequeue(out var read))
        {
            try { ArrayPool<byte>.Shared.Return(await read.ConfigureAwait(false)); }
            catch (Exception e) when (e is LibRbdException or ObjectDisposedException) { }
        }
        if (_current is not null) ArrayPool<byte>.Shared.Return(_current);
        _current = null;
    }
}
