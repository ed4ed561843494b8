using System.Collections.Concurrent;
using Backy.Storage.Chunks;
using Backy.Storage.Images;
using Backy.Storage.Jobs;
using Backy.Storage.Legacy;
using Backy.Storage.Locks;
using Backy.Storage.Revisions;

namespace Backy.Storage.Reading;

/// <summary>
/// Random access to one revision's image, for readers that stay open (the NBD server): byte ranges are served
/// from a shared <see cref="BlockCache"/> of decoded blocks, holes without touching a chunk. Opening reads the
/// chunk map under the shared purge lock and takes a <see cref="RevisionPin"/>, then lets the lock go: purge,
/// backup, forget and expire run while the reader is open, and purge keeps the pinned chunks. Any format the one
/// read path (<see cref="RevisionImages"/>) reads is served: ours, and the original's chunked and cowfile (whose
/// old chunks the legacy purge and `upgrade` keep while pinned; a cowfile is kept by the open handle). Thread-safe.
/// A small read of a block whose chunk is stored in parts (encoding 3, <see cref="ChunkParts"/>) decodes and checks
/// only the parts it touches, cached as entries of their own, unless the whole block is cached already.
/// </summary>
public sealed class RevisionReader : IDisposable
{
    private readonly IRevisionImage _image;
    private readonly BlockCache _cache;
    private readonly RevisionPin? _pin;
    // Chunks found stored whole (encodings 0-2): their small reads go straight to the whole block. Bounded: cleared when full.
    private readonly ConcurrentDictionary<StoredChunk, byte> _storedWhole = new();
    private const int StoredWholeMemory = 65_536;

    /// <summary>The part size read: what backup writes (<see cref="ChunkParts.DefaultPartSize"/>).</summary>
    public const int PartSize = ChunkParts.DefaultPartSize;

    /// <summary>
    /// A read of at most this much of one block is served from parts: a 4 KiB read decodes 64 KiB instead of 4 MiB.
    /// A larger one (nbdcopy asks for 256 KiB at a time) decodes the whole block: one read of the file, one decode,
    /// which costs less per byte than many parts, and the block is then cached for the reads after it.
    /// </summary>
    public const int PartReadLimit = 2 * PartSize;

    private RevisionReader(Revision revision, IRevisionImage image, BlockCache cache, RevisionPin? pin)
    {
        Revision = revision;
        _image = image;
        _cache = cache;
        _pin = pin;
    }

    public Revision Revision { get; }
    public long Size => _image.Size;
    public int BlockSize => Blocks.Size;

    /// <summary>Called once per failed block read, before the exception propagates (distrust, logging).</summary>
    public event Action<RevisionReadException>? ReadFailed;

    public static async Task<RevisionReader> OpenAsync(JobDirectory job, Revision revision, BlockCache cache, CancellationToken cancellationToken)
    {
        if (!revision.IsLocal)
            throw new BackyException($"revision {revision.Id} is stored on server '{revision.Server}', not here");
        using var purgeLock = await JobLocks.AcquirePurgeSharedAsync(job.Path, cancellationToken).ConfigureAwait(false);
        // The one read path (Images/): the same image restore, verify and purge read.
        var image = RevisionImages.Open(job, revision);
        try
        {
            var pin = revision.BackendType switch
            {
                LegacyFormat.Chunked => RevisionPin.Take(purgeLock, job.Path, revision.Id, LegacyFormat.DataPath(job.Path, revision.Id), legacyChunked: true),
                LegacyFormat.Cowfile => null, // one file, kept by the image's open handle
                _ => RevisionPin.Take(purgeLock, job.Path, revision.Id, job.ChunkMapPath(revision.Id)),
            };
            return new RevisionReader(revision, image, cache, pin);
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>The allocation of [offset, offset+length): runs of whole-block holes and data, in order.</summary>
    public IEnumerable<(long Offset, long Length, bool Hole)> Extents(long offset, long length)
    {
        var end = Math.Min(Size, offset + length);
        var position = offset;
        while (position < end)
        {
            var block = position / BlockSize;
            var hole = _image.IsHole(block);
            var runEnd = Math.Min(end, (block + 1) * BlockSize);
            while (runEnd < end && _image.IsHole(runEnd / BlockSize) == hole)
                runEnd = Math.Min(end, (runEnd / BlockSize + 1) * BlockSize);
            yield return (position, runEnd - position, hole);
            position = runEnd;
        }
    }

    /// <summary>
    /// Fills <paramref name="destination"/> with the image from <paramref name="offset"/>; the range must lie
    /// within the image. Throws <see cref="RevisionReadException"/> naming the first block that failed.
    /// </summary>
    public void Read(long offset, Span<byte> destination)
    {
        if (offset < 0 || offset + destination.Length > Size)
            throw new ArgumentOutOfRangeException(nameof(offset), $"range {offset}+{destination.Length} outside the image of {Size} bytes");
        var done = 0;
        while (done < destination.Length)
        {
            var position = offset + done;
            var block = position / BlockSize;
            var within = (int)(position - block * BlockSize);
            var n = Math.Min(destination.Length - done, _image.LengthOf(block) - within);
            var target = destination.Slice(done, n);
            if (_image.IsHole(block))
                target.Clear();
            else if (!TryReadParts(block, within, target))
            {
                using var lease = Lease(block);
                lease.Data.Slice(within, n).CopyTo(target);
            }
            done += n;
        }
    }

    /// <summary>Decodes the blocks of a range into the cache (NBD_CMD_CACHE, read-ahead) without copying them out.</summary>
    public void Prefetch(long offset, long length)
    {
        var end = Math.Min(Size, offset + length);
        for (var block = offset / BlockSize; block * BlockSize < end; block++)
            if (!_image.IsHole(block))
                Lease(block).Dispose();
    }

    /// <summary>
    /// Read-ahead of one block into the cache (see <see cref="BlockCache.TryPrefetch"/>): nothing for a hole, a block
    /// past the end, one already cached or being decoded, or when the cache has no free buffer. Errors are left to
    /// the read that needs the block, which reports them.
    /// </summary>
    public bool ReadAhead(long block)
    {
        if (block < 0 || block >= _image.BlockCount || _image.IsHole(block)) return false;
        try { return _cache.TryPrefetch(KeyOf(block), buffer => _image.ReadBlock(block, buffer)); }
        catch (BackyException) { return false; }
    }

    private BlockKey KeyOf(long block) =>
        _image.ChunkOf(block) is { } stored ? BlockKey.Of(stored) : BlockKey.Unchunked(Revision.Id, block);

    private BlockCache.Lease Lease(long block)
    {
        var chunk = KeyOf(block);
        try
        {
            return _cache.Get(chunk, buffer => _image.ReadBlock(block, buffer));
        }
        catch (ChunkCorruptedException e) { throw Failed(block, chunk, e); }
    }

    private RevisionReadException Failed(long block, BlockKey chunk, ChunkCorruptedException e)
    {
        var failure = new RevisionReadException(Revision.Id, block, block * BlockSize, chunk, e.Message, e);
        ReadFailed?.Invoke(failure);
        return failure;
    }

    /// <summary>
    /// Fills <paramref name="target"/> from <paramref name="within"/> in a data block from the cached whole block or
    /// from the parts it touches; false when the read is too large for parts or the chunk is stored whole (then the
    /// caller reads the whole block, overwriting whatever this copied).
    /// </summary>
    private bool TryReadParts(long block, int within, Span<byte> target)
    {
        if (!_image.MayHaveParts || target.Length > PartReadLimit) return false;
        if (_image.ChunkOf(block) is not { } chunk || _storedWhole.ContainsKey(chunk)) return false;
        var whole = BlockKey.Of(chunk);
        try
        {
            if (_cache.TryGet(whole, out var cached))
            {
                using (cached) cached.Data.Slice(within, target.Length).CopyTo(target);
                return true;
            }
        }
        catch (ChunkCorruptedException e) { throw Failed(block, whole, e); }
        var done = 0;
        while (done < target.Length)
        {
            var at = within + done;
            var part = at / PartSize;
            var from = at - part * PartSize;
            var n = Math.Min(target.Length - done, PartSize - from);
            var key = BlockKey.PartOf(chunk, part);
            BlockCache.Lease lease;
            try
            {
                lease = _cache.Get(key, PartSize, buffer =>
                {
                    if (_image.ReadPart(block, PartSize, part, buffer) < 0) throw new StoredWholeSignal();
                });
            }
            catch (StoredWholeSignal)
            {
                if (_storedWhole.Count >= StoredWholeMemory) _storedWhole.Clear();
                _storedWhole.TryAdd(chunk, 0);
                return false;
            }
            catch (ChunkCorruptedException e) { throw Failed(block, key, e); }
            using (lease) lease.Data.Slice(from, n).CopyTo(target.Slice(done, n));
            done += n;
        }
        return true;
    }

    /// <summary>A part read found the chunk stored whole (once per chunk: then it is remembered).</summary>
    private sealed class StoredWholeSignal : Exception;

    /// <summary>Releases the pin. The chunk map goes with the reader.</summary>
    public void Dispose()
    {
        _pin?.Dispose();
        _image.Dispose();
    }
}
