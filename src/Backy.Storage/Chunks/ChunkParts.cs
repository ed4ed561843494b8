using System.Buffers.Binary;
using System.IO.Hashing;
using K4os.Compression.LZ4;

namespace Backy.Storage.Chunks;

/// <summary>
/// Encoding 3 (<see cref="ChunkFileFormat.EncodingParts"/>): the block stored as independently compressed parts,
/// each with its own checksum, so that a reader of a few KiB (the NBD server) decodes and checks one part
/// instead of the whole 4 MiB chunk. The payload:
/// <code>
/// offset  size
///  0      4    part size (LE): a power of two, 4 KiB to 4 MiB
///  4      4    part count n (LE) = ceil(uncompressed length / part size)
///  8      16n  per part: stored length (u32 LE), encoding (u8: 0 raw, 1 LZ4 block, 2 zstd frame),
///              3 reserved zero bytes, XxHash3-64 of the part's decoded bytes (u64 LE)
///  8+16n       the parts' stored bytes, in order
/// </code>
/// The chunk's name still checks the whole block (every whole read re-hashes it); a part's checksum checks a part
/// read alone. A deep whole decode (verify, copy, backup's check) checks both, so that it finds a chunk whose part
/// table is damaged (a part read would fail on it) even when the block itself decodes right; restore's whole decode
/// skips the parts' checksums (its block is proven by its name, and they cost a fifth of the decode).
/// A part is stored raw when its compression saves less than 1/16 of it.
/// </summary>
public static class ChunkParts
{
    /// <summary>64 KiB: LZ4's window is 64 KiB, so parts of it cost LZ4 about 1 % of size on an image of /usr
    /// (measured: Storage README, "Parts"), while a 4 KiB read decodes 1/64 of the chunk.</summary>
    public const int DefaultPartSize = 64 * 1024;
    public const int MinPartSize = 4096;
    public const int EntrySize = 16;
    public const int PrefixSize = 8;

    /// <summary>The largest payload a block of <see cref="Blocks.Size"/> can take (every part raw, smallest parts).</summary>
    public static int MaxPayload(int partSize) => PrefixSize + EntrySize * PartCount(Blocks.Size, partSize) + Blocks.Size;

    public static int PartCount(int length, int partSize) => (int)(((long)length + partSize - 1) / partSize);

    public static bool IsValidPartSize(int partSize) =>
        partSize >= MinPartSize && partSize <= Blocks.Size && (partSize & (partSize - 1)) == 0;

    /// <summary>
    /// Writes the payload for <paramref name="data"/> into <paramref name="target"/> (at least
    /// <see cref="MaxPayload"/> plus zstd's bound for one part beyond the block) and returns its length.
    /// </summary>
    public static int Encode(ReadOnlySpan<byte> data, Span<byte> target, ChunkCompression compression)
    {
        var partSize = compression.PartSize;
        var count = PartCount(data.Length, partSize);
        BinaryPrimitives.WriteInt32LittleEndian(target, partSize);
        BinaryPrimitives.WriteInt32LittleEndian(target[4..], count);
        var at = PrefixSize + EntrySize * count;
        var zstd = compression.Algorithm == ChunkCompression.Kind.Zstd;
        for (var i = 0; i < count; i++)
        {
            var part = data.Slice(i * partSize, Math.Min(partSize, data.Length - i * partSize));
            var limit = part.Length - part.Length / 16;
            var room = target[at..];
            var compressed = part.Length < 64 ? -1
                : zstd ? ZstdCodec.Compress(part, room[..Math.Min(room.Length, ZstdCodec.CompressBound(part.Length))], compression.Level)
                : LZ4Codec.Encode(part, room[..Math.Min(room.Length, limit)], LZ4Level.L00_FAST);
            byte encoding;
            int stored;
            if (compressed > 0 && compressed < limit)
            {
                encoding = zstd ? ChunkFileFormat.EncodingZstd : ChunkFileFormat.EncodingLz4;
                stored = compressed;
            }
            else
            {
                encoding = ChunkFileFormat.EncodingRaw;
                stored = part.Length;
                part.CopyTo(room);
            }
            var entry = target.Slice(PrefixSize + EntrySize * i, EntrySize);
            BinaryPrimitives.WriteInt32LittleEndian(entry, stored);
            entry[4] = encoding;
            entry[5] = entry[6] = entry[7] = 0;
            BinaryPrimitives.WriteUInt64LittleEndian(entry[8..], XxHash3.HashToUInt64(part));
            at += stored;
        }
        return at;
    }

    /// <summary>The part table of a payload, checked against the block's length and the payload's.</summary>
    public readonly ref struct Table
    {
        private readonly ReadOnlySpan<byte> _entries;

        private Table(int partSize, int count, ReadOnlySpan<byte> entries)
        {
            PartSize = partSize;
            Count = count;
            _entries = entries;
        }

        public int PartSize { get; }
        public int Count { get; }
        public int Size => PrefixSize + EntrySize * Count;

        public int StoredLength(int i) => BinaryPrimitives.ReadInt32LittleEndian(_entries[(EntrySize * i)..]);
        public byte Encoding(int i) => _entries[EntrySize * i + 4];
        public ulong Checksum(int i) => BinaryPrimitives.ReadUInt64LittleEndian(_entries[(EntrySize * i + 8)..]);

        /// <summary>
        /// Reads the prefix and table from the start of <paramref name="payload"/> (which may be cut short after
        /// the table: then <paramref name="payloadLength"/> is the whole payload's length). Null, or the reason.
        /// </summary>
        public static string? TryRead(ReadOnlySpan<byte> payload, int payloadLength, int blockLength, out Table table)
        {
            table = default;
            if (payload.Length < PrefixSize) return "truncated part table";
            var partSize = BinaryPrimitives.ReadInt32LittleEndian(payload);
            var count = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
            if (!IsValidPartSize(partSize)) return $"bad part size {partSize}";
            if (count != PartCount(blockLength, partSize)) return $"{count} parts of {partSize} bytes cannot hold {blockLength} bytes";
            var size = PrefixSize + EntrySize * (long)count;
            if (size > payload.Length) return "truncated part table";
            table = new Table(partSize, count, payload.Slice(PrefixSize, EntrySize * count));
            long total = size;
            for (var i = 0; i < count; i++)
            {
                var stored = table.StoredLength(i);
                var length = table.LengthOf(i, blockLength);
                var encoding = table.Encoding(i);
                if (stored < 0) return $"part {i}: negative length";
                if (encoding is not (ChunkFileFormat.EncodingRaw or ChunkFileFormat.EncodingLz4 or ChunkFileFormat.EncodingZstd))
                    return $"part {i}: unknown encoding {encoding}";
                if (encoding == ChunkFileFormat.EncodingRaw && stored != length) return $"part {i}: raw length mismatch";
                total += stored;
            }
            if (total != payloadLength) return $"parts add up to {total} bytes, the payload is {payloadLength}";
            return null;
        }

        public int LengthOf(int i, int blockLength) => Math.Min(PartSize, blockLength - i * PartSize);

        /// <summary>Offset of part <paramref name="i"/>'s stored bytes in the payload.</summary>
        public int OffsetOf(int i)
        {
            var at = Size;
            for (var j = 0; j < i; j++) at += StoredLength(j);
            return at;
        }
    }

    /// <summary>Decodes every part of <paramref name="payload"/> into <paramref name="destination"/>[..blockLength],
    /// checking each part's checksum when <paramref name="checkParts"/>; null or the reason.</summary>
    public static string? DecodeAll(ReadOnlySpan<byte> payload, int blockLength, Span<byte> destination, bool checkParts = true)
    {
        var bad = Table.TryRead(payload, payload.Length, blockLength, out var table);
        if (bad is not null) return bad;
        var at = table.Size;
        for (var i = 0; i < table.Count; i++)
        {
            var stored = table.StoredLength(i);
            var problem = DecodePart(table, i, payload.Slice(at, stored), destination.Slice(i * table.PartSize, table.LengthOf(i, blockLength)), checkParts);
            if (problem is not null) return problem;
            at += stored;
        }
        return null;
    }

    /// <summary>Decodes part <paramref name="i"/> from its stored bytes into exactly <paramref name="destination"/> and checks its checksum; null or the reason.</summary>
    public static string? DecodePart(Table table, int i, ReadOnlySpan<byte> stored, Span<byte> destination, bool check = true)
    {
        switch (table.Encoding(i))
        {
            case ChunkFileFormat.EncodingRaw:
                stored.CopyTo(destination);
                break;
            case ChunkFileFormat.EncodingZstd:
                var problem = ZstdCodec.Decompress(stored, destination);
                if (problem is not null) return $"part {i}: {problem}";
                break;
            default:
                if (LZ4Codec.Decode(stored, destination) != destination.Length) return $"part {i}: bad LZ4 data";
                break;
        }
        return check ? CheckPart(table, i, destination) : null;
    }

    /// <summary>Checks decoded part <paramref name="i"/> against its checksum; null or the reason.</summary>
    public static string? CheckPart(Table table, int i, ReadOnlySpan<byte> decoded) =>
        XxHash3.HashToUInt64(decoded) != table.Checksum(i) ? $"part {i} (offset {(long)i * table.PartSize}) does not match its checksum" : null;
}
