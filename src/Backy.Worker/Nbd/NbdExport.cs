using System.Globalization;
using Backy.Storage.Reading;

namespace Backy.Worker.Nbd;

/// <summary>
/// One served revision: its reader, and for <c>--writable</c> the copy-on-write overlay that every connection to
/// it shares. Open from the first connection that names it until the server stops.
/// </summary>
internal sealed class NbdExport : IDisposable
{
    private readonly RevisionReader _reader;
    private readonly CowOverlay? _overlay;

    public NbdExport(RevisionReader reader, CowOverlay? overlay)
    {
        _reader = reader;
        _overlay = overlay;
    }

    public string Name => _reader.Revision.Id;
    public long Size => _reader.Size;
    public bool Writable => _overlay is not null;

    public string Description => Describe(_reader.Revision);

    public static string Describe(Backy.Storage.Revisions.Revision r) =>
        r.Timestamp.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)
        + (r.Tags.Count > 0 ? " " + string.Join(",", r.Tags) : "")
        + (r.Trust == Backy.Storage.Revisions.Trust.Distrusted ? " (distrusted)" : "");

    /// <summary>
    /// Transmission flags: read-only exports allow multi-conn (nothing is cached per connection; the block cache is
    /// shared); writable ones do not advertise it (the rule; the overlay is shared, but a client that
    /// wants several writers should ask for it first).
    /// </summary>
    public ushort Flags => (ushort)(NbdProtocol.HasFlags | NbdProtocol.SendFlush | NbdProtocol.SendDf | NbdProtocol.SendCache
        | (Writable
            ? NbdProtocol.SendTrim | NbdProtocol.SendWriteZeroes | NbdProtocol.SendFua | NbdProtocol.SendFastZero
            : NbdProtocol.ReadOnly | NbdProtocol.CanMultiConn));

    public void Read(long offset, Span<byte> destination)
    {
        if (_overlay is not null && _overlay.Touches(offset, destination.Length))
            _overlay.Read(offset, destination, _reader.Read);
        else
            _reader.Read(offset, destination);
    }

    /// <summary>Data and hole runs. Any block the overlay touches counts as data.</summary>
    public IEnumerable<(long Offset, long Length, bool Hole)> Extents(long offset, long length)
    {
        foreach (var e in _reader.Extents(offset, length))
        {
            if (!e.Hole || _overlay is null || !_overlay.Touches(e.Offset, e.Length))
            {
                yield return e;
                continue;
            }
            // Split a hole at the blocks the overlay wrote to.
            var block = (long)_reader.BlockSize;
            for (var p = e.Offset; p < e.Offset + e.Length;)
            {
                var next = Math.Min(e.Offset + e.Length, (p / block + 1) * block);
                yield return (p, next - p, !_overlay.Touches(p, next - p));
                p = next;
            }
        }
    }

    public void Prefetch(long offset, long length) => _reader.Prefetch(offset, length);

    /// <summary>Decodes one block ahead of a sequential reader, if the cache has room (see <see cref="RevisionReader.ReadAhead"/>).</summary>
    public void ReadAhead(long block) => _reader.ReadAhead(block);

    public Task WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _overlay!.WriteAsync(offset, data, _reader.Read, cancellationToken);

    public Task ZeroAsync(long offset, long length, CancellationToken cancellationToken) =>
        _overlay!.ZeroAsync(offset, length, _reader.Read, cancellationToken);

    public void Dispose()
    {
        _overlay?.Dispose();
        _reader.Dispose();
    }
}
