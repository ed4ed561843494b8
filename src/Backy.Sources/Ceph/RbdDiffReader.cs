using System.Buffers.Binary;
using System.Text;
using Backy.Storage;
using Backy.Storage.Backup;

namespace Backy.Sources.Ceph;

/// <summary>
/// Streaming parser of rbd's "rbd diff v1" format (what <c>rbd export-diff</c> writes): the header
/// <c>"rbd diff v1\n"</c>, then tagged records, little endian: <c>f</c>/<c>t</c> from/to snapshot name (u32 length +
/// bytes), <c>s</c> image size (u64), <c>w</c> offset + length (u64 each) + data, <c>z</c> offset + length (zeroed),
/// <c>e</c> end. Only a small look-ahead buffer is held; data is copied straight into the caller's memory.
/// Anything malformed (bad header, unknown tag, truncation, extents out of order or beyond the image, absurd
/// lengths, bytes after the end) throws a <see cref="BackyException"/> naming the offset in the stream.
/// </summary>
public sealed class RbdDiffReader : ISourceDiff
{
    /// <summary>Frozen by rbd's on-wire format.</summary>
    public static ReadOnlySpan<byte> Header => "rbd diff v1\n"u8;

    // Ceph limits snapshot names far below this; a larger length can only be garbage.
    private const int MaxNameLength = 4096;
    // RBD images are limited to 2^64 bytes in the format but nothing real comes close to 2^62.
    private const long MaxImageSize = 1L << 62;

    private readonly Stream _stream;
    private readonly string _origin;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;   // first unread byte in _buffer
    private int _end;     // one past the last valid byte in _buffer
    private long _consumed; // stream bytes before _buffer[_start], for error messages
    private bool _headerRead;
    private bool _finished;
    private long _dataLeft;  // unread bytes of the current 'w' extent
    private long _nextOffset; // extents must ascend without overlap

    /// <param name="stream">The diff; disposed with the reader.</param>
    /// <param name="origin">Names the stream in errors (<c>rbd export-diff rbd/vm1@backy-x</c>).</param>
    /// <param name="expectedSize">The size of the snapshot the diff leads to, when known: an <c>s</c> record that
    /// disagrees is an error (the diff would describe some other image).</param>
    public RbdDiffReader(Stream stream, string origin, long? expectedSize = null)
    {
        _stream = stream;
        _origin = origin;
        _expectedSize = expectedSize;
    }

    private readonly long? _expectedSize;

    /// <summary>The <c>s</c> record's image size, once read (rbd writes it before any extent).</summary>
    public long? ImageSize { get; private set; }

    public string? FromSnapshot { get; private set; }
    public string? ToSnapshot { get; private set; }

    /// <summary>The next extent, or null after the <c>e</c> record. Unread data of the previous extent is skipped.</summary>
    public async ValueTask<DiffExtent?> ReadNextExtentAsync(CancellationToken cancellationToken)
    {
        if (_finished) return null;
        if (!_headerRead) await ReadHeaderAsync(cancellationToken).ConfigureAwait(false);
        while (_dataLeft > 0) await SkipDataAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var tagAt = _consumed;
            await FillAsync(1, "record tag", cancellationToken).ConfigureAwait(false);
            var tag = (char)_buffer[_start];
            Take(1);
            switch (tag)
            {
                case 'f':
                    FromSnapshot = await ReadNameAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case 't':
                    ToSnapshot = await ReadNameAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case 's':
                    var size = await ReadU64Async("image size", cancellationToken).ConfigureAwait(false);
                    if (size > MaxImageSize) throw Malformed($"absurd image size {size}", tagAt);
                    if (_expectedSize is { } expected && size != expected)
                        throw Malformed($"image size {size} differs from the snapshot's {expected}", tagAt);
                    ImageSize = size;
                    break;
                case 'w':
                case 'z':
                    var offset = await ReadU64Async("extent offset", cancellationToken).ConfigureAwait(false);
                    var length = await ReadU64Async("extent length", cancellationToken).ConfigureAwait(false);
                    CheckExtent(tag, offset, length, tagAt);
                    _nextOffset = offset + length;
                    if (tag == 'w') _dataLeft = length;
                    return new DiffExtent(offset, length, IsZero: tag == 'z');
                case 'e':
                    await ExpectEndOfStreamAsync(cancellationToken).ConfigureAwait(false);
                    _finished = true;
                    return null;
                default:
                    throw Malformed($"unknown record type 0x{(byte)tag:x2}", tagAt);
            }
        }
    }

    /// <summary>Fills <paramref name="destination"/> completely with the next bytes of the current data extent.</summary>
    public async ValueTask ReadDataAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (destination.Length > _dataLeft)
            throw new InvalidOperationException($"asked for {destination.Length} bytes but the current extent has {_dataLeft} left");
        while (destination.Length > 0)
        {
            if (_end > _start)
            {
                var n = Math.Min(_end - _start, destination.Length);
                _buffer.AsSpan(_start, n).CopyTo(destination.Span);
                Take(n);
                _dataLeft -= n;
                destination = destination[n..];
                continue;
            }
            // Large reads bypass the look-ahead buffer: the data lands where the caller wants it.
            var read = await _stream.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
            if (read == 0) throw Malformed($"truncated: {_dataLeft} bytes of extent data missing", _consumed);
            _consumed += read;
            _dataLeft -= read;
            destination = destination[read..];
        }
    }

    public ValueTask DisposeAsync() => _stream.DisposeAsync();

    private void CheckExtent(char tag, long offset, long length, long at)
    {
        if (ImageSize is not { } size) throw Malformed($"'{tag}' record before the image size record", at);
        if (offset < 0 || length < 0 || offset > size || length > size - offset)
            throw Malformed($"'{tag}' extent {offset}+{length} lies outside the image of {size} bytes", at);
        if (offset < _nextOffset)
            throw Malformed($"'{tag}' extent at {offset} overlaps or precedes the previous one ending at {_nextOffset}", at);
    }

    private async ValueTask ReadHeaderAsync(CancellationToken cancellationToken)
    {
        var header = Header.Length;
        await FillAsync(header, "header", cancellationToken, allowShort: true).ConfigureAwait(false);
        if (_end - _start < header || !_buffer.AsSpan(_start, header).SequenceEqual(Header))
            throw Malformed("bad header (not \"rbd diff v1\")", 0);
        Take(header);
        _headerRead = true;
    }

    private async ValueTask<string> ReadNameAsync(CancellationToken cancellationToken)
    {
        var at = _consumed - 1;
        await FillAsync(4, "snapshot name length", cancellationToken).ConfigureAwait(false);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_start, 4));
        Take(4);
        if (length > MaxNameLength) throw Malformed($"absurd snapshot name length {length}", at);
        await FillAsync((int)length, "snapshot name", cancellationToken).ConfigureAwait(false);
        var name = Encoding.UTF8.GetString(_buffer, _start, (int)length);
        Take((int)length);
        return name;
    }

    private async ValueTask<long> ReadU64Async(string what, CancellationToken cancellationToken)
    {
        var at = _consumed;
        await FillAsync(8, what, cancellationToken).ConfigureAwait(false);
        var value = BinaryPrimitives.ReadUInt64LittleEndian(_buffer.AsSpan(_start, 8));
        Take(8);
        if (value > long.MaxValue) throw Malformed($"absurd {what} {value}", at);
        return (long)value;
    }

    private async ValueTask SkipDataAsync(CancellationToken cancellationToken)
    {
        var scratch = new byte[(int)Math.Min(_dataLeft, 1 << 20)];
        await ReadDataAsync(scratch, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask ExpectEndOfStreamAsync(CancellationToken cancellationToken)
    {
        // Reading to the end also lets the stream report the producer's exit status (see RbdCli.Export*).
        if (_end > _start || await FillMoreAsync(cancellationToken).ConfigureAwait(false) > 0)
            throw Malformed("data after the end record", _consumed);
    }

    /// <summary>Makes at least <paramref name="count"/> unread bytes available in the buffer.</summary>
    private async ValueTask FillAsync(int count, string what, CancellationToken cancellationToken, bool allowShort = false)
    {
        while (_end - _start < count)
        {
            if (await FillMoreAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                if (allowShort) return;
                throw Malformed($"truncated in the {what} ({_end - _start} of {count} bytes present)", _consumed);
            }
        }
    }

    private async ValueTask<int> FillMoreAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        var n = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        _end += n;
        return n;
    }

    private void Take(int count)
    {
        _start += count;
        _consumed += count;
    }

    private BackyException Malformed(string reason, long at) =>
        new($"malformed rbd diff from {_origin} at byte {at}: {reason}");
}
