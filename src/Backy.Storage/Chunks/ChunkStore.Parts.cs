using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Backy.Storage.Chunks;

public sealed partial class ChunkStore
{
    /// <summary>
    /// Reads, decodes and checks (against its own checksum) one part of a chunk stored in parts of
    /// <paramref name="partSize"/> bytes (<see cref="ChunkParts"/>) into <paramref name="destination"/>; returns the
    /// part's length, or -1 when the chunk is stored whole or in parts of another size (then read it whole). Costs
    /// two reads of the file: its header and part table, then the part. <paramref name="blockLength"/> is the length
    /// the chunk map expects. Throws <see cref="ChunkCorruptedException"/> when the file is missing, malformed, or
    /// the part does not match its checksum.
    /// </summary>
    public int ReadPart(ChunkId id, int partSize, int index, int blockLength, Span<byte> destination)
    {
        var path = PathOf(id);
        using var handle = OpenForPart(id, path);
        // The header and a 64-part table (1,048 bytes) fit in the first page. The file's length is not asked
        // (one system call less per cold NBD read): a file cut short fails the reads of the parts it lost
        // ("part N: truncated"), and whole reads, verify and the backup's check still compare it exactly.
        var head = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var n = ReadAt(handle, head.AsSpan(0, 4096), 0);
            var bad = ChunkFileFormat.TryReadHeader(head.AsSpan(0, n), out var encoding, out var length, out var payload);
            if (bad is not null) throw new ChunkCorruptedException(id, null, path, bad);
            if (encoding != ChunkFileFormat.EncodingParts) return -1;
            if (length != blockLength)
                throw new ChunkCorruptedException(id, null, path, $"holds {length} bytes, the chunk map expects {blockLength}");
            var tableBytes = head.AsSpan(ChunkFileFormat.HeaderSize, n - ChunkFileFormat.HeaderSize);
            byte[]? bigHead = null;
            try
            {
                if (n >= ChunkFileFormat.HeaderSize + ChunkParts.PrefixSize)
                {
                    var count = BitConverter.ToInt32(head, ChunkFileFormat.HeaderSize + 4);
                    var tableSize = ChunkParts.PrefixSize + ChunkParts.EntrySize * (long)count;
                    if (count > 0 && tableSize > tableBytes.Length && tableSize <= payload)
                    {
                        bigHead = ArrayPool<byte>.Shared.Rent((int)tableSize);
                        tableBytes = bigHead.AsSpan(0, ReadAt(handle, bigHead.AsSpan(0, (int)tableSize), ChunkFileFormat.HeaderSize));
                    }
                }
                bad = ChunkParts.Table.TryRead(tableBytes, payload, length, out var table);
                if (bad is not null) throw new ChunkCorruptedException(id, null, path, bad);
                if (table.PartSize != partSize) return -1;
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, table.Count);
                var stored = table.StoredLength(index);
                var partLength = table.LengthOf(index, length);
                var at = ChunkFileFormat.HeaderSize + (long)table.OffsetOf(index);
                if (table.Encoding(index) == ChunkFileFormat.EncodingRaw && stored == partLength)
                {
                    // Stored as it is (incompressible data): read straight into the destination, then check.
                    if (ReadAt(handle, destination[..partLength], at) != partLength) throw new ChunkCorruptedException(id, null, path, $"part {index}: truncated");
                    var rawProblem = ChunkParts.CheckPart(table, index, destination[..partLength]);
                    if (rawProblem is not null) throw new ChunkCorruptedException(id, null, path, rawProblem);
                    return partLength;
                }
                var part = ArrayPool<byte>.Shared.Rent(Math.Max(1, stored));
                try
                {
                    var got = ReadAt(handle, part.AsSpan(0, stored), at);
                    if (got != stored) throw new ChunkCorruptedException(id, null, path, $"part {index}: truncated");
                    var problem = ChunkParts.DecodePart(table, index, part.AsSpan(0, stored), destination[..partLength]);
                    if (problem is not null) throw new ChunkCorruptedException(id, null, path, problem);
                    return partLength;
                }
                finally { ArrayPool<byte>.Shared.Return(part); }
            }
            finally { if (bigHead is not null) ArrayPool<byte>.Shared.Return(bigHead); }
        }
        finally { ArrayPool<byte>.Shared.Return(head); }
    }

    /// <summary>
    /// Opens a chunk file for a part read with open(2) itself: .NET's File.OpenHandle adds an fstat and a
    /// flock/unlock pair (its FileShare emulation) that a read of a content-addressed file never needs, three of
    /// the eight system calls of a cold 4 KiB NBD read. Missing: <see cref="ChunkCorruptedException"/>; any other
    /// failure (EIO, EACCES): an <see cref="IOException"/> carrying the errno, as .NET's would.
    /// </summary>
    private static SafeFileHandle OpenForPart(ChunkId id, string path)
    {
        var fd = IO.Posix.Open(path, IO.Posix.O_RDONLY | IO.Posix.O_CLOEXEC, 0);
        if (fd >= 0) return new SafeFileHandle(fd, ownsHandle: true);
        var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        if (errno is IO.Posix.ENOENT or IO.Posix.ENOTDIR) throw new ChunkCorruptedException(id, null, path, "missing");
        if (errno is IO.Posix.EACCES or IO.Posix.EPERM) throw new UnauthorizedAccessException($"Access to the path '{path}' is denied.");
        throw new IOException($"{IO.Posix.ErrorText(errno)} : '{path}'", errno);
    }

    /// <summary>Reads until <paramref name="destination"/> is full or the file ends; returns the bytes read. Every
    /// read of a chunk file (whole, part, checked) goes through it.</summary>
    private static int ReadAt(SafeFileHandle handle, Span<byte> destination, long offset)
    {
        var read = 0;
        while (read < destination.Length)
        {
            var n = RandomAccess.Read(handle, destination[read..], offset + read);
            if (n == 0) break;
            read += n;
        }
        return read;
    }
}
