using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.Pipeline;
using Backy.Storage.Revisions;

namespace Backy.Storage.Backup;

public sealed partial class BackupEngine
{
    /// <summary>At most this many quarantine reports per failed backup: enough to diagnose, bounded on disk.</summary>
    private const int MaxReports = 16;

    /// <summary>
    /// Reads the source again (every block, or a sample per <see cref="ISourceSnapshot.Verification"/>) and
    /// compares each block with what the store returns for it: the chunk read back, decoded and re-hashed, so
    /// that a chunk that exists but rotted (a parent's chunk, reused without writing) is caught here, not at
    /// restore. Each distinct chunk is read back once per backup; a block whose chunk was read back already
    /// is compared by hash. A mismatch means the source changed under us or the store lied: quarantine both
    /// versions and fail (the caller removes the revision). A chunk that does not read back is an integrity
    /// error (<see cref="ChunkCorruptedException"/>: the caller distrusts every revision, so the next backup
    /// writes every chunk again).
    /// </summary>
    private async Task CheckAgainstSourceAsync(ISourceSnapshot snapshot, Revision revision, ChunkMap map, CancellationToken cancellationToken)
    {
        var policy = snapshot.Verification;
        var clock = Stopwatch.StartNew();
        var pool = new BlockBufferPool(_settings.Workers);
        var mismatches = new ConcurrentBag<long>();
        var readBack = new ConcurrentDictionary<ChunkId, byte>();
        long checkedBlocks = 0;
        var options = new ParallelOptions { MaxDegreeOfParallelism = _settings.Workers, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(SelectBlocks(map.BlockCount, policy), options, async (block, token) =>
        {
            if (!policy.IsFull && clock.Elapsed > policy.MaxDuration && Interlocked.Read(ref checkedBlocks) > 0) return;
            var buffer = await pool.RentAsync(token).ConfigureAwait(false);
            try
            {
                var length = map.LengthOf(block);
                var read = await snapshot.ReadAtAsync(block * map.BlockSize, buffer.AsMemory(0, length), token).ConfigureAwait(false);
                if (!Matches(map, block, buffer.AsSpan(0, read), length, readBack)) mismatches.Add(block);
                Interlocked.Increment(ref checkedBlocks);
            }
            finally { pool.Return(buffer); }
        }).ConfigureAwait(false);
        _logger.SourceVerified(checkedBlocks, map.BlockCount, readBack.Count, clock.Elapsed.TotalSeconds);
        if (mismatches.IsEmpty) return;

        var sorted = mismatches.Order().ToList();
        string? firstReport = null;
        var scratch = GC.AllocateUninitializedArray<byte>(ChunkStore.ScratchSize);
        foreach (var block in sorted.Take(MaxReports))
        {
            var length = map.LengthOf(block);
            var source = new byte[length];
            var read = await snapshot.ReadAtAsync(block * map.BlockSize, source, cancellationToken).ConfigureAwait(false);
            var stored = new byte[Blocks.Size];
            var storedLength = length;
            if (!map.IsHole(block))
            {
                try { storedLength = _job.Chunks.Read(map.Entries[block], stored, scratch); }
                catch (ChunkCorruptedException) { storedLength = 0; }
            }
            var report = _job.Quarantine.Add(revision.Id, block, block * map.BlockSize, source.AsSpan(0, read), stored.AsSpan(0, storedLength), _time.GetUtcNow());
            firstReport ??= report.Id;
            _logger.Quarantined(block, block * map.BlockSize, report.StoredHash, report.SourceHash, report.Id);
        }
        throw new BackyException(
            $"backup of '{_job.Path}' failed verification: {sorted.Count} block(s) differ from the source " +
            $"(first at offset {sorted[0] * map.BlockSize}); quarantine report {firstReport} written, revision {revision.Id} removed");
    }

    /// <summary>
    /// Whether the source block equals what the store returns for it. The first block of each chunk reads the
    /// chunk back (decode + re-hash against its name, inside <see cref="ChunkStore.Read"/>) and compares bytes;
    /// later blocks of the same chunk compare their hash with the name, which the read-back proved.
    /// </summary>
    private bool Matches(ChunkMap map, long block, ReadOnlySpan<byte> data, int expectedLength, ConcurrentDictionary<ChunkId, byte> readBack)
    {
        if (data.Length != expectedLength) return false;
        if (map.IsHole(block)) return Blocks.IsAllZero(data);
        var id = map.Entries[block];
        if (!readBack.TryAdd(id, 0)) return ChunkId.Of(data) == id;
        var stored = ArrayPool<byte>.Shared.Rent(Blocks.Size);
        var scratch = ArrayPool<byte>.Shared.Rent(ChunkStore.ScratchSize);
        try
        {
            var n = _job.Chunks.Read(id, stored, scratch);
            return stored.AsSpan(0, n).SequenceEqual(data);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
            ArrayPool<byte>.Shared.Return(stored);
        }
    }

    /// <summary>All blocks in order, or a sorted random sample of at least one block.</summary>
    internal static IEnumerable<long> SelectBlocks(long count, VerificationPolicy policy)
    {
        if (count == 0) return [];
        if (policy.IsFull) return LongRange(count);
        var k = (long)Math.Clamp(Math.Ceiling(count * policy.Fraction), 1, count);
        var picked = new HashSet<long>();
        while (picked.Count < k) picked.Add(Random.Shared.NextInt64(count));
        return picked.Order().ToArray();
    }

    private static IEnumerable<long> LongRange(long count)
    {
        for (long i = 0; i < count; i++) yield return i;
    }
}
