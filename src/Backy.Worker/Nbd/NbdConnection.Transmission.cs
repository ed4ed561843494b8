using System.Buffers;
using System.Buffers.Binary;
using Backy.Storage;

namespace Backy.Worker.Nbd;

internal sealed partial class NbdConnection
{
    /// <summary>Requests handled at once per connection: enough to keep both a decode and the socket busy for
    /// nbdcopy's 64 requests in flight, few enough that a connection holds at most 16 x 32 MiB of buffers.</summary>
    private const int MaxInFlight = 16;

    private readonly SemaphoreSlim _writeLock = new(1, 1);

    private readonly record struct Request(ushort Flags, ushort Type, ulong Handle, long Offset, uint Length);

    /// <summary>The transmission phase until NBD_CMD_DISC, a disconnect or a protocol violation; returns why it ended.</summary>
    private async Task<string> TransmitAsync(NbdExport export, CancellationToken cancellationToken)
    {
        var inFlight = new SemaphoreSlim(MaxInFlight, MaxInFlight);
        string reason;
        try
        {
            while (true)
            {
                if (!await ReadHeaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    reason = "client disconnected";
                    break;
                }
                if (BinaryPrimitives.ReadUInt32BigEndian(_header) != NbdProtocol.RequestMagic)
                {
                    reason = "bad request magic";
                    break;
                }
                var request = new Request(
                    BinaryPrimitives.ReadUInt16BigEndian(_header.AsSpan(4)),
                    BinaryPrimitives.ReadUInt16BigEndian(_header.AsSpan(6)),
                    BinaryPrimitives.ReadUInt64BigEndian(_header.AsSpan(8)),
                    (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(_header.AsSpan(16)), long.MaxValue),
                    BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(24)));
                if (request.Type == NbdProtocol.CmdDisc)
                {
                    // Anything the client sends after this is never read.
                    reason = "client sent NBD_CMD_DISC";
                    break;
                }
                byte[]? payload = null;
                if (request.Type == NbdProtocol.CmdWrite)
                {
                    // The payload must be read to stay in step, and we will not read an unbounded one.
                    if (request.Length > NbdProtocol.MaximumPayload)
                    {
                        reason = $"write of {request.Length} bytes exceeds the maximum payload {NbdProtocol.MaximumPayload}";
                        break;
                    }
                    payload = ArrayPool<byte>.Shared.Rent((int)request.Length);
                    await _stream.ReadExactlyAsync(payload.AsMemory(0, (int)request.Length), cancellationToken).ConfigureAwait(false);
                }
                // Only for a client that waits for each read (at most one other in flight): a deep queue of
                // sequential reads (nbdcopy) already asks for the next blocks, and read-ahead would only compete.
                if (request.Type == NbdProtocol.CmdRead) ReadAheadIfSequential(export, request, inFlight.CurrentCount >= MaxInFlight - 1);
                await inFlight.WaitAsync(cancellationToken).ConfigureAwait(false);
                _ = Task.Run(async () =>
                {
                    try { await HandleAsync(export, request, payload, cancellationToken).ConfigureAwait(false); }
                    catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
                    {
                        // The reply could not be sent: the connection is broken; closing it ends the read loop.
                        try { _stream.Dispose(); } catch (IOException) { }
                    }
                    catch (Exception e)
                    {
                        // The server itself failed (the fault sweep: a codec whose assembly could not be loaded).
                        // The request would never be answered and the client would wait for ever; a reply may be
                        // half sent, so the connection closes and the client sees an error.
                        _logger.RequestFailed(_id, request.Type, request.Offset, request.Length, JobCommandLine.FailureMessage("request", e));
                        try { _stream.Dispose(); } catch (IOException) { }
                    }
                    finally
                    {
                        if (payload is not null) ArrayPool<byte>.Shared.Return(payload);
                        inFlight.Release();
                    }
                }, CancellationToken.None);
            }
        }
        finally
        {
            // Let requests in flight finish (the spec: handle all outstanding requests before closing).
            for (var i = 0; i < MaxInFlight; i++) await inFlight.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        return reason;
    }

    private long _sequentialEnd = -1;
    private int _readingAhead;

    /// <summary>
    /// When a read starts where the previous one of this connection ended, and the client has at most one other
    /// request in flight, the block after the one it ends in is
    /// decoded meanwhile, on another core (one read-ahead at a time per connection, only into free cache buffers):
    /// a client reading sequentially at a low depth (a guest booting, cp from nbdfuse) would otherwise stop for a
    /// whole chunk decode at every 4 MiB boundary. Random reads trigger nothing, so they cost no extra decodes.
    /// </summary>
    private void ReadAheadIfSequential(NbdExport export, Request r, bool shallow)
    {
        var sequential = r.Offset == _sequentialEnd && r.Length > 0;
        _sequentialEnd = r.Offset + r.Length;
        if (!sequential || !shallow || Interlocked.CompareExchange(ref _readingAhead, 1, 0) != 0) return;
        var next = (r.Offset + r.Length - 1) / Storage.Chunks.Blocks.Size + 1;
        _ = Task.Run(() =>
        {
            try { export.ReadAhead(next); }
            catch (ObjectDisposedException) { /* the server stopped meanwhile */ }
            finally { Volatile.Write(ref _readingAhead, 0); }
        }, CancellationToken.None);
    }

    /// <summary>Reads a request header; false on a clean end of stream before it.</summary>
    private async Task<bool> ReadHeaderAsync(CancellationToken cancellationToken)
    {
        var n = await _stream.ReadAtLeastAsync(_header, _header.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (n == 0) return false;
        if (n < _header.Length) throw new EndOfStreamException();
        return true;
    }

    private async Task HandleAsync(NbdExport export, Request r, byte[]? payload, CancellationToken cancellationToken)
    {
        var fits = r.Offset <= export.Size && r.Length <= export.Size - r.Offset;
        switch (r.Type)
        {
            case NbdProtocol.CmdRead:
                if ((r.Flags & ~(NbdProtocol.CmdFlagFua | NbdProtocol.CmdFlagDf)) != 0)
                    await ErrorAsync(r, NbdProtocol.EINVAL, $"unknown flags 0x{r.Flags:x} for NBD_CMD_READ", cancellationToken).ConfigureAwait(false);
                else if (!fits || r.Length == 0 || r.Length > NbdProtocol.MaximumPayload)
                    await ErrorAsync(r, NbdProtocol.EINVAL, $"read of {r.Length} bytes at {r.Offset} is outside the export ({export.Size} bytes) or above the maximum payload", cancellationToken).ConfigureAwait(false);
                else
                    await ReadAsync(export, r, cancellationToken).ConfigureAwait(false);
                return;
            case NbdProtocol.CmdWrite:
            case NbdProtocol.CmdTrim:
            case NbdProtocol.CmdWriteZeroes:
                await ModifyAsync(export, r, payload, fits, cancellationToken).ConfigureAwait(false);
                return;
            case NbdProtocol.CmdFlush:
                // Nothing to make durable: a read-only export has no writes, and a writable export's overlay is
                // discarded when the server stops, so no crash can lose anything a flush promised to keep.
                await OkAsync(r, cancellationToken).ConfigureAwait(false);
                return;
            case NbdProtocol.CmdCache:
                if (!fits)
                {
                    await ErrorAsync(r, NbdProtocol.EINVAL, $"cache of {r.Length} bytes at {r.Offset} is outside the export", cancellationToken).ConfigureAwait(false);
                    return;
                }
                try { export.Prefetch(r.Offset, r.Length); }
                catch (BackyException) { /* a hint only: the read that follows reports the error */ }
                await OkAsync(r, cancellationToken).ConfigureAwait(false);
                return;
            case NbdProtocol.CmdBlockStatus:
                await BlockStatusAsync(export, r, fits, cancellationToken).ConfigureAwait(false);
                return;
            default:
                await ErrorAsync(r, NbdProtocol.EINVAL, $"unknown command {r.Type}", cancellationToken).ConfigureAwait(false);
                return;
        }
    }

    private async Task ModifyAsync(NbdExport export, Request r, byte[]? payload, bool fits, CancellationToken cancellationToken)
    {
        var allowed = NbdProtocol.CmdFlagFua | (r.Type == NbdProtocol.CmdWriteZeroes ? NbdProtocol.CmdFlagNoHole | NbdProtocol.CmdFlagFastZero : 0);
        if (!export.Writable)
            await ErrorAsync(r, NbdProtocol.EPERM, "the export is read-only (start nbd-server with --writable for a copy-on-write overlay)", cancellationToken).ConfigureAwait(false);
        else if ((r.Flags & ~allowed) != 0)
            await ErrorAsync(r, NbdProtocol.EINVAL, $"unknown flags 0x{r.Flags:x}", cancellationToken).ConfigureAwait(false);
        else if (!fits)
            await ErrorAsync(r, NbdProtocol.ENOSPC, $"write of {r.Length} bytes at {r.Offset} is beyond the end of the export ({export.Size} bytes)", cancellationToken).ConfigureAwait(false);
        else
        {
            try
            {
                if (r.Type == NbdProtocol.CmdWrite)
                    await export.WriteAsync(r.Offset, payload.AsMemory(0, (int)r.Length), cancellationToken).ConfigureAwait(false);
                else
                    await export.ZeroAsync(r.Offset, r.Length, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is BackyException or IOException)
            {
                // The base block under a partial page could not be read, or the overlay's disk failed.
                await ErrorAsync(r, NbdProtocol.EIO, e.Message, cancellationToken).ConfigureAwait(false);
                return;
            }
            await OkAsync(r, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// NBD_CMD_READ. Structured: holes as NBD_REPLY_TYPE_OFFSET_HOLE, data block by block, and a block that cannot
    /// be read as NBD_REPLY_TYPE_ERROR_OFFSET for exactly its range while the rest is sent. Simple: all or EIO.
    /// </summary>
    private async Task ReadAsync(NbdExport export, Request r, CancellationToken cancellationToken)
    {
        var length = (int)r.Length;
        if (!_structured || (r.Flags & NbdProtocol.CmdFlagDf) != 0)
        {
            await ReadWholeAsync(export, r, cancellationToken).ConfigureAwait(false);
            return;
        }
        // Pieces: hole runs, and data cut at block boundaries so that one bad block fails only its own range.
        var pieces = new List<(long Offset, int Length, bool Hole)>();
        foreach (var (offset, runLength, hole) in export.Extents(r.Offset, length))
        {
            if (hole)
            {
                pieces.Add((offset, (int)runLength, true));
                continue;
            }
            for (var p = offset; p < offset + runLength;)
            {
                var next = Math.Min(offset + runLength, (p / Storage.Chunks.Blocks.Size + 1) * Storage.Chunks.Blocks.Size);
                pieces.Add((p, (int)(next - p), false));
                p = next;
            }
        }
        var buffer = ArrayPool<byte>.Shared.Rent(length + pieces.Count * 32);
        var errors = new List<byte[]>();
        try
        {
            var at = 0;
            var last = -1;
            foreach (var (offset, pieceLength, hole) in pieces)
            {
                if (hole)
                {
                    NbdWire.StructuredHeader(buffer.AsSpan(at), 0, NbdProtocol.ReplyOffsetHole, r.Handle, 12);
                    BinaryPrimitives.WriteUInt64BigEndian(buffer.AsSpan(at + 20), (ulong)offset);
                    BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(at + 28), (uint)pieceLength);
                    last = at;
                    at += 32;
                    continue;
                }
                try { export.Read(offset, buffer.AsSpan(at + 28, pieceLength)); }
                catch (Exception e) when (e is BackyException or IOException)
                {
                    errors.Add(NbdWire.StructuredError(0, r.Handle, NbdProtocol.EIO, e.Message, offset));
                    continue;
                }
                NbdWire.StructuredHeader(buffer.AsSpan(at), 0, NbdProtocol.ReplyOffsetData, r.Handle, (uint)(8 + pieceLength));
                BinaryPrimitives.WriteUInt64BigEndian(buffer.AsSpan(at + 20), (ulong)offset);
                last = at;
                at += 28 + pieceLength;
            }
            if (errors.Count > 0) BinaryPrimitives.WriteUInt16BigEndian(errors[^1].AsSpan(4), NbdProtocol.ReplyFlagDone);
            else BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(last + 4), NbdProtocol.ReplyFlagDone);
            await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await _stream.WriteAsync(buffer.AsMemory(0, at), cancellationToken).ConfigureAwait(false);
                foreach (var e in errors) await _stream.WriteAsync(e, cancellationToken).ConfigureAwait(false);
            }
            finally { _writeLock.Release(); }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>A read answered in one piece: a simple reply, or one data chunk when the client asked not to fragment.</summary>
    private async Task ReadWholeAsync(NbdExport export, Request r, CancellationToken cancellationToken)
    {
        var length = (int)r.Length;
        var head = _structured ? NbdWire.StructuredHeaderSize + 8 : NbdWire.SimpleHeaderSize;
        var buffer = ArrayPool<byte>.Shared.Rent(head + length);
        try
        {
            try { export.Read(r.Offset, buffer.AsSpan(head, length)); }
            catch (Exception e) when (e is BackyException or IOException)
            {
                await ErrorAsync(r, NbdProtocol.EIO, e.Message, cancellationToken).ConfigureAwait(false);
                return;
            }
            if (_structured)
            {
                NbdWire.StructuredHeader(buffer, NbdProtocol.ReplyFlagDone, NbdProtocol.ReplyOffsetData, r.Handle, (uint)(8 + length));
                BinaryPrimitives.WriteUInt64BigEndian(buffer.AsSpan(20), (ulong)r.Offset);
            }
            else NbdWire.SimpleReplyHeader(buffer, 0, r.Handle);
            await SendAsync(buffer.AsMemory(0, head + length), cancellationToken).ConfigureAwait(false);
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    private async Task BlockStatusAsync(NbdExport export, Request r, bool fits, CancellationToken cancellationToken)
    {
        if (!_allocationSelected)
        {
            await ErrorAsync(r, NbdProtocol.EINVAL, "no meta context selected (NBD_OPT_SET_META_CONTEXT base:allocation)", cancellationToken).ConfigureAwait(false);
            return;
        }
        if ((r.Flags & ~(NbdProtocol.CmdFlagFua | NbdProtocol.CmdFlagReqOne)) != 0 || !fits || r.Length == 0)
        {
            await ErrorAsync(r, NbdProtocol.EINVAL, $"block status of {r.Length} bytes at {r.Offset} with flags 0x{r.Flags:x} is invalid for an export of {export.Size} bytes", cancellationToken).ConfigureAwait(false);
            return;
        }
        var descriptors = new List<(uint Length, uint Flags)>();
        foreach (var (_, length, hole) in export.Extents(r.Offset, r.Length))
        {
            var flags = hole ? NbdProtocol.StateHole | NbdProtocol.StateZero : 0u;
            if (descriptors.Count > 0 && descriptors[^1].Flags == flags)
                descriptors[^1] = (descriptors[^1].Length + (uint)length, flags);
            else descriptors.Add(((uint)length, flags));
        }
        if ((r.Flags & NbdProtocol.CmdFlagReqOne) != 0 && descriptors.Count > 1) descriptors.RemoveRange(1, descriptors.Count - 1);
        var payload = 4 + 8 * descriptors.Count;
        var b = new byte[NbdWire.StructuredHeaderSize + payload];
        NbdWire.StructuredHeader(b, NbdProtocol.ReplyFlagDone, NbdProtocol.ReplyBlockStatus, r.Handle, (uint)payload);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(20), NbdProtocol.BaseAllocationId);
        for (var i = 0; i < descriptors.Count; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(24 + 8 * i), descriptors[i].Length);
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(28 + 8 * i), descriptors[i].Flags);
        }
        await SendAsync(b, cancellationToken).ConfigureAwait(false);
    }

    private Task OkAsync(Request r, CancellationToken cancellationToken)
    {
        var b = new byte[NbdWire.SimpleHeaderSize];
        NbdWire.SimpleReplyHeader(b, 0, r.Handle);
        return SendAsync(b, cancellationToken);
    }

    /// <summary>An error reply: structured (with the message for people) when negotiated, else simple.</summary>
    private Task ErrorAsync(Request r, uint error, string message, CancellationToken cancellationToken)
    {
        if (_structured) return SendAsync(NbdWire.StructuredError(NbdProtocol.ReplyFlagDone, r.Handle, error, message, null), cancellationToken);
        var b = new byte[NbdWire.SimpleHeaderSize];
        NbdWire.SimpleReplyHeader(b, error, r.Handle);
        return SendAsync(b, cancellationToken);
    }

    private async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try { await _stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false); }
        finally { _writeLock.Release(); }
    }
}
