using System.IO.Hashing;
using Backy.Storage.IO;

namespace Backy.Storage.Chunks;

public sealed partial class ChunkStore
{
    /// <summary>
    /// Extended attribute with the XxHash3-64 (LE) of a chunk file's bytes, recorded when those very bytes were
    /// decoded and re-hashed to the chunk's name (<see cref="ReadAndRecordChecked"/>). Not part of the frozen
    /// format: a file without it (written by an older version, copied without xattrs, on a file system without
    /// user xattrs) is simply decoded again. A rewritten chunk file (forced-write mode) is a new inode: no attribute.
    /// </summary>
    public const string CheckedAttribute = "user.backy.checked";

    /// <summary>
    /// True when the chunk file still holds exactly the bytes that were once decoded and found to hash to its
    /// name: the whole file is read and hashed (a fraction of a decode's cost) and compared with
    /// <see cref="CheckedAttribute"/>. So it still decodes to its name. False when the attribute is missing or
    /// differs or the file cannot be read: decode it then (<see cref="ReadAndRecordChecked"/>), which decides.
    /// </summary>
    public bool IsUnchangedSinceChecked(ChunkId id, byte[] scratch)
    {
        try
        {
            using var handle = File.OpenHandle(PathOf(id), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (!ExtendedAttributes.TryGetUInt64(handle, CheckedAttribute, out var recorded)) return false;
            var length = RandomAccess.GetLength(handle);
            if (length > scratch.Length) return false;
            var file = scratch.AsSpan(0, (int)length);
            return ReadAt(handle, file, 0) == file.Length && XxHash3.HashToUInt64(file) == recorded;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>
    /// <see cref="Read"/> (decode, re-hash, throw when corrupt), then records the checksum of the file's bytes in
    /// <see cref="CheckedAttribute"/> so that later checks need not decode it (best effort).
    /// </summary>
    public int ReadAndRecordChecked(ChunkId id, Span<byte> destination, byte[] scratch) =>
        ReadCore(id, destination, scratch, record: true, deep: true);

}
