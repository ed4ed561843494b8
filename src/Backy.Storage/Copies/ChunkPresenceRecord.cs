using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Backy.Storage.Chunks;
using Backy.Storage.IO;

namespace Backy.Storage.Copies;

/// <summary>
/// The local record of which chunks a copy target already holds (<c>JOB/copies/NAME.chunks</c>), so that a copy
/// uploads only what is missing without listing the bucket every time:
/// <code>
/// offset size
///  0     8   magic "BKYCPYR1"
///  8    16   XxHash128 of the target's identity (endpoint, bucket, job prefix, key id)
/// 24     8   unix seconds of the listing the record was built from (little endian)
/// 32    24*n entries, appended after each successful upload or retention change:
///            16 chunk id, 8 unix seconds its Object Lock retention lasts until (0 = none known)
/// </code>
/// An entry is appended only after its PUT succeeded, so the record never claims more than was stored by us; the
/// last entry of an id wins (a lock extended later); a torn last entry is ignored. The retain-until dates spare a
/// HEAD per reused chunk when a new revision needs its chunks locked as long as itself (CopyEngine.Upload); after a
/// rebuild from a listing they are unknown (0) and asked for once. Version 1 records (ids alone) are in doubt. The record is in doubt, and rebuilt from a listing of the target, when it is missing,
/// belongs to another target (the configuration changed), or its listing is older than <see cref="MaxAge"/>
/// (the store may have lost objects behind our back: a bucket lifecycle rule, an operator's delete).
/// </summary>
public sealed class ChunkPresenceRecord : IDisposable
{
    /// <summary>A week: a listing costs one request per 1000 chunks, cheap at that rate, and bounds how long an
    /// object deleted behind our back can go unnoticed by the copy (verify --from notices it at once).</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(7);

    private static ReadOnlySpan<byte> Magic => "BKYCPYR2"u8;
    private const int HeaderSize = 32;
    private const int EntrySize = ChunkId.Size + 8;

    /// <summary>Chunk id -> retain-until (unix seconds; 0 = none known).</summary>
    private readonly Dictionary<ChunkId, long> _present;
    private readonly FileStream _append;
    private readonly object _gate = new();

    public string Path { get; }
    public int Count { get { lock (_gate) return _present.Count; } }

    private ChunkPresenceRecord(string path, Dictionary<ChunkId, long> present, FileStream append)
    {
        Path = path;
        _present = present;
        _append = append;
    }

    public static UInt128 Identity(CopyTarget target, CopyRepository repository) =>
        XxHash128.HashToUInt128(Encoding.UTF8.GetBytes(
            $"{target.Type}\n{target.Endpoint}\n{target.Bucket}\n{repository.JobPrefix}\n{repository.Cipher.KeyId}"));

    /// <summary>The record, or null when it is in doubt (missing, another target's, too old, malformed).</summary>
    public static ChunkPresenceRecord? TryOpen(string path, UInt128 identity, DateTimeOffset now)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
        if (bytes.Length < HeaderSize || !bytes.AsSpan(0, 8).SequenceEqual(Magic)
            || BinaryPrimitives.ReadUInt128LittleEndian(bytes.AsSpan(8)) != identity)
            return null;
        var listedAt = DateTimeOffset.FromUnixTimeSeconds(BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(24)));
        if (now - listedAt > MaxAge || listedAt > now + TimeSpan.FromDays(1)) return null;
        var present = new Dictionary<ChunkId, long>();
        var whole = HeaderSize + (bytes.Length - HeaderSize) / EntrySize * EntrySize;
        for (var o = HeaderSize; o < whole; o += EntrySize)
            present[ChunkId.Read(bytes.AsSpan(o, ChunkId.Size))] = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(o + ChunkId.Size));
        var append = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        append.SetLength(whole); // drop a torn last entry so that later entries stay aligned
        append.Seek(0, SeekOrigin.End);
        return new ChunkPresenceRecord(path, present, append);
    }

    /// <summary>Writes a fresh record (atomically) holding <paramref name="present"/> (retention unknown), as found by a listing at <paramref name="listedAt"/>.</summary>
    public static ChunkPresenceRecord Create(string path, UInt128 identity, DateTimeOffset listedAt, IEnumerable<ChunkId> present)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var set = present.Distinct().ToDictionary(id => id, _ => 0L);
        var bytes = new byte[HeaderSize + set.Count * EntrySize];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt128LittleEndian(bytes.AsSpan(8), identity);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(24), listedAt.ToUnixTimeSeconds());
        var o = HeaderSize;
        foreach (var id in set.Keys) { id.Write(bytes.AsSpan(o)); o += EntrySize; }
        DurableFile.WriteAllBytes(path, bytes);
        var append = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        append.Seek(0, SeekOrigin.End);
        return new ChunkPresenceRecord(path, set, append);
    }

    public bool Contains(ChunkId id) { lock (_gate) return _present.ContainsKey(id); }

    /// <summary>Until when the chunk's object is locked, as far as this record knows (null: not present or unknown).</summary>
    public DateTimeOffset? RetainUntil(ChunkId id)
    {
        lock (_gate)
            return _present.TryGetValue(id, out var t) && t > 0 ? DateTimeOffset.FromUnixTimeSeconds(t) : null;
    }

    /// <summary>Records a chunk whose upload (or retention change) succeeded, locked until <paramref name="retainUntil"/>
    /// (null: no lock); buffered, <see cref="Flush"/> makes it durable.</summary>
    public void Add(ChunkId id, DateTimeOffset? retainUntil = null)
    {
        // Rounded down: the record never claims a longer lock than the store holds.
        var seconds = retainUntil is { } t ? Math.Max(1, t.ToUnixTimeSeconds()) : 0;
        Span<byte> raw = stackalloc byte[EntrySize];
        id.Write(raw);
        BinaryPrimitives.WriteInt64LittleEndian(raw[ChunkId.Size..], seconds);
        lock (_gate)
        {
            if (_present.TryGetValue(id, out var known) && known == seconds) return;
            _present[id] = seconds;
            _append.Write(raw);
        }
    }

    public void Flush()
    {
        lock (_gate) _append.Flush(flushToDisk: true);
    }

    public void Dispose()
    {
        lock (_gate) _append.Dispose();
    }
}
