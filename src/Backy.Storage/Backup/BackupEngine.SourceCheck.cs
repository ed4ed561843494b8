using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.Pipeline;
using Backy.Storage.Progress;
using Backy.Storage.Revisions;

namespace Backy.Storage.Backup;

public sealed partial class BackupEngine
{
    /// <summary>At most this many quarantine reports per failed backup: enough to diagnose, bounded on disk.</summary>
    private const int MaxReports = 16;

    /// <summary>
    /// Reads the source again (every block, or a sample per <see cref="ISourceSnapshot.Verification"/>) and
    /// compares each block with what the store returns for it (see <see cref="Matches"/>), so that a chunk that
    /// exists but rotted (a parent's chunk, reused without writing) is caught here, not at restore. Each distinct
    /// chunk file is read once per backup. A mismatch means the source changed under us or the store lied: quarantine both
    /// versions and fail (the caller removes the revision). A chunk that does not read back is an integrity
    /// error (<see cref="ChunkCorruptedException"/>: the caller distrusts every revision, so the next backup
    /// writes every chunk again).
    /// </summary>
    private async Task CheckAgainstSourceAsync(ISourceSnapshot snapshot, Revision revision, ChunkMap map, ProgressCounter progress, CancellationToken cancellationToken)
    {
        var policy = snapshot.Verification;
        var clock = Stopwatch.StartNew();
        // A network source (librbd) waits a round trip per block: as many blocks in flight as its full read uses.
        var concurrency = Math.Max(_settings.Workers, snapshot.ParallelFullRead ? snapshot.FullReadConcurrency : 0);
        var pool = new BlockBufferPool(concurrency);
        var mismatches = new ConcurrentBag<long>();
        var readBack = new ReadBackCounts();
        long checkedBlocks = 0;
        var options = new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken };
        // A block mapped as a hole that the source (asked again now) still reports as a hole matches without a read.
        var holes = await snapshot.FindHolesAsync(cancellationToken).ConfigureAwait(false);
        if (holes is not null && holes.BlockCount != map.BlockCount) holes = null;
        var blocks = SelectBlocks(map.BlockCount, policy);
        if (holes is not null)
            blocks = blocks.Where(block =>
            {
                if (!map.IsHole(block) || !holes.IsHole(block)) return true;
                Interlocked.Increment(ref checkedBlocks);
                progress.Add(1, 0);
                return false;
            });
        await Parallel.ForEachAsync(blocks, options, async (block, token) =>
        {
            if (!policy.IsFull && clock.Elapsed > policy.MaxDuration && Interlocked.Read(ref checkedBlocks) > 0) return;
            var buffer = await pool.RentAsync(token).ConfigureAwait(false);
            try
            {
                var length = map.LengthOf(block);
                var read = await snapshot.ReadAtAsync(block * map.BlockSize, buffer.AsMemory(0, length), token).ConfigureAwait(false);
                if (!Matches(map, block, buffer.AsSpan(0, read), length, readBack)) mismatches.Add(block);
                Interlocked.Increment(ref checkedBlocks);
                progress.Add(1, read);
            }
            finally { pool.Return(buffer); }
        }).ConfigureAwait(false);
        _logger.SourceVerified(checkedBlocks, map.BlockCount, mismatches.Count, readBack.Chunks.Count - readBack.Unchanged, readBack.Unchanged, clock.Elapsed.TotalSeconds);
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
    /// Whether the source block equals what the store returns for it. The first block of each chunk checks the
    /// chunk: when its file holds exactly the bytes an earlier check decoded and found to hash to its name
    /// (<see cref="ChunkStore.IsUnchangedSinceChecked"/>: read whole and hashed, no decode), it still decodes to
    /// that name and the source block's hash is compared with the name; otherwise the chunk is read back
    /// (decode + re-hash, recording the file's checksum for the next time) and compared byte for byte. Later
    /// blocks of the same chunk compare their hash with the name the first one proved.
    /// </summary>
    private bool Matches(ChunkMap map, long block, ReadOnlySpan<byte> data, int expectedLength, ReadBackCounts readBack)
    {
        if (data.Length != expectedLength) return false;
        if (map.IsHole(block)) return Blocks.IsAllZero(data);
        var id = map.Entries[block];
        if (!readBack.Chunks.TryAdd(id, 0)) return ChunkId.Of(data) == id;
        var scratch = ArrayPool<byte>.Shared.Rent(ChunkStore.ScratchSize);
        try
        {
            if (_job.Chunks.IsUnchangedSinceChecked(id, scratch))
            {
                Interlocked.Increment(ref readBack.Unchanged);
                return ChunkId.Of(data) == id;
            }
            var stored = ArrayPool<byte>.Shared.Rent(Blocks.Size);
            try
            {
                var n = _job.Chunks.ReadAndRecordChecked(id, stored, scratch);
                return stored.AsSpan(0, n).SequenceEqual(data);
            }
            finally { ArrayPool<byte>.Shared.Return(stored); }
        }
        finally { ArrayPool<byte>.Shared.Return(scratch); }
    }

    /// <summary>The distinct chunks the verification has checked, and how many of them needed no decode.</summary>
    private sealed class ReadBackCounts
    {
        public readonly ConcurrentDictionary<ChunkId, byte> Chunks = new();
        public int Unchanged;
    }

    /// <summary>How many blocks <see cref="SelectBlocks"/> picks (the progress total counts them).</summary>
    internal static long VerificationBlocks(long count, VerificationPolicy policy) =>
        count == 0 ? 0 : policy.IsFull ? count : (long)Math.Clamp(Math.Ceiling(count * policy.Fraction), 1, count);

    /// <summary>All blocks in order, or a sorted random sample of at least one block.</summary>
    internal static IEnumerable<long> SelectBlocks(long count, VerificationPolicy policy)
    {
        if (count == 0) return [];
        if (policy.IsFull) return LongRange(count);
        var k = VerificationBlocks(count, policy);
        var picked = new HashSet<long>();
        while (picked.Count < k) picked.Add(Random.Shared.NextInt64(count));
        return picked.Order().ToArray();
    }

    private static IEnumerable<long> LongRange(long count)
    {
        for (long i = 0; i < count; i++) yield return i;
    }
}
