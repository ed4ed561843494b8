using Backy.Storage.Chunks;
using Backy.Storage.Images;
using Backy.Storage.Reading;

namespace Backy.Tests.Storage;

/// <summary>The NBD server's decoded-block cache: bounded, one decode per block at a time, failures not cached.</summary>
public class BlockCacheTests
{
    private static BlockKey Id(int n) => BlockKey.Of(new StoredChunk(ChunkStoreKind.Current, new ChunkId((UInt128)n + 1)));

    [Test, CancelAfter(30_000)]
    public async Task Readers_of_one_block_at_the_same_time_share_one_decode(CancellationToken ct)
    {
        var cache = new BlockCache(4, blockSize: 4096);
        var decodes = 0;
        using var release = new ManualResetEventSlim();
        var readers = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            using var lease = cache.Get(Id(1), buffer =>
            {
                Interlocked.Increment(ref decodes);
                release.Wait(ct);
                buffer.Fill(7);
            });
            return lease.Data[100];
        }, ct)).ToArray();
        while (Volatile.Read(ref decodes) == 0) await Task.Delay(10, ct);
        await Task.Delay(200, ct); // let the others arrive and wait
        release.Set();

        var seen = await Task.WhenAll(readers);

        Assert.That(decodes, Is.EqualTo(1));
        Assert.That(seen, Is.All.EqualTo(7));
    }

    [Test]
    public void A_failed_decode_is_not_cached_and_the_next_reader_decodes_again()
    {
        var cache = new BlockCache(2, blockSize: 4096);
        Assert.Throws<ChunkCorruptedException>(() => cache.Get(Id(1), _ => throw new ChunkCorruptedException(new ChunkId(2), null, "/x", "bad")));

        using var lease = cache.Get(Id(1), b => b.Fill(3));

        Assert.That(lease.Data[0], Is.EqualTo(3));
        Assert.That(cache.Misses, Is.EqualTo(2));
    }

    [Test]
    public void It_holds_at_most_its_capacity_least_recently_used_out()
    {
        var cache = new BlockCache(2, blockSize: 4096);
        void Read(int n) { using var _ = cache.Get(Id(n), b => b.Fill((byte)n)); }

        Read(1); Read(2); Read(1); Read(3); // 3 evicts 2, the least recently used
        Read(1);
        Assert.That((cache.Hits, cache.Misses), Is.EqualTo((2L, 3L)));
        Read(2);
        Assert.That(cache.Misses, Is.EqualTo(4L), "2 was evicted");
    }

    [Test]
    public void A_block_being_read_is_never_evicted_or_overwritten()
    {
        var cache = new BlockCache(1, blockSize: 4096);
        using var held = cache.Get(Id(1), b => b.Fill(1));

        // The only cached buffer is in use: the next block decodes into a buffer of its own.
        using (var other = cache.Get(Id(2), b => b.Fill(2)))
            Assert.That(other.Data[0], Is.EqualTo(2));

        Assert.That(held.Data.ToArray(), Is.All.EqualTo(1));
    }

    [Test]
    public void Read_ahead_fills_the_cache_once_and_the_next_read_is_a_hit()
    {
        var cache = new BlockCache(2, blockSize: 4096);
        var decodes = 0;

        Assert.That(cache.TryPrefetch(Id(1), b => { decodes++; b.Fill(9); }), Is.True);
        Assert.That(cache.TryPrefetch(Id(1), b => decodes++), Is.False, "already cached");
        using var lease = cache.Get(Id(1), b => decodes++);

        Assert.That(lease.Data[0], Is.EqualTo(9));
        Assert.That((decodes, cache.Hits, cache.Misses, cache.Prefetches), Is.EqualTo((1, 1L, 0L, 1L)));
    }

    [Test]
    public void Read_ahead_never_decodes_outside_the_cache_and_drops_failures()
    {
        var cache = new BlockCache(1, blockSize: 4096);
        using (var held = cache.Get(Id(1), b => b.Fill(1)))
            Assert.That(cache.TryPrefetch(Id(2), _ => Assert.Fail("no free buffer: read-ahead must not decode")), Is.False);

        Assert.That(cache.TryPrefetch(Id(3), _ => throw new ChunkCorruptedException(new ChunkId(3), null, "/x", "bad")), Is.False);
        // The failure was not cached: the read decodes again (and would report it).
        using var lease = cache.Get(Id(3), b => b.Fill(3));
        Assert.That(lease.Data[0], Is.EqualTo(3));
        Assert.That(cache.Misses, Is.EqualTo(2L));
    }

    [Test]
    public void Read_ahead_counts_as_a_use_so_the_next_miss_does_not_evict_it_before_its_reader_comes()
    {
        var cache = new BlockCache(2, blockSize: 4096);
        void Read(int n) { using var _ = cache.Get(Id(n), b => b.Fill((byte)n)); }
        Read(1);
        cache.TryPrefetch(Id(2), b => b.Fill(2));

        Read(3); // evicts 1, the least recently used, not the read-ahead 2
        Read(2);

        Assert.That(cache.Hits, Is.EqualTo(1L), "2 stayed for its reader");
    }

    [Test]
    public void Parts_and_whole_blocks_share_one_budget_and_a_block_takes_the_slab_of_the_oldest_parts()
    {
        var cache = new BlockCache(4, blockSize: 4096); // 16 KiB; parts start with one slab (4 of 1 KiB)
        BlockKey Part(int n) => BlockKey.PartOf(Id(100).Chunk!.Value, n);
        for (var i = 0; i < 4; i++) cache.Get(Part(i), 1024, b => b.Fill((byte)i)).Dispose();
        for (var i = 1; i <= 3; i++) cache.Get(Id(i), b => b.Fill((byte)i)).Dispose();
        Assert.That(cache.AllocatedBytes, Is.EqualTo(cache.BudgetBytes));
        Assert.That(Enumerable.Range(0, 4).Count(i => cache.Contains(Part(i))), Is.EqualTo(4));

        cache.Get(Id(4), b => b.Fill(4)).Dispose();

        Assert.That(Enumerable.Range(0, 4).Count(i => cache.Contains(Part(i))), Is.Zero, "the oldest part's slab went to the block, with its other parts");
        Assert.That(Enumerable.Range(1, 4).All(i => cache.Contains(Id(i))), Is.True);
        Assert.That(cache.AllocatedBytes, Is.EqualTo(cache.BudgetBytes));

        // Every cached buffer held: a part goes to a buffer of its own, outside the budget, and is not cached.
        var held = Enumerable.Range(1, 4).Select(i => cache.Get(Id(i), _ => Assert.Fail("cached"))).ToList();
        using (var extra = cache.Get(Part(20), 1024, b => b.Fill(20))) Assert.That(extra.Data[0], Is.EqualTo(20));
        Assert.That(cache.AllocatedBytes, Is.EqualTo(cache.BudgetBytes));
        Assert.That(cache.Contains(Part(20)), Is.False);
        held.ForEach(l => l.Dispose());
    }

    [Test]
    public void Parts_read_once_recycle_an_eighth_of_the_budget_instead_of_taking_it_all()
    {
        var cache = new BlockCache(16, blockSize: 4096); // parts start with 2 slabs, 8 parts of 1 KiB
        BlockKey Part(int n) => BlockKey.PartOf(Id(100).Chunk!.Value, n);

        for (var i = 0; i < 100; i++)
            using (var lease = cache.Get(Part(i), 1024, b => b.Fill((byte)i)))
                Assert.That(lease.Data[1023], Is.EqualTo((byte)i));

        Assert.That(cache.PartSlabLimit, Is.EqualTo(2));
        Assert.That(cache.AllocatedBytes, Is.EqualTo(2 * 4096));
        Assert.That(Enumerable.Range(92, 8).All(i => cache.Contains(Part(i))), Is.True, "the newest eight stay");
        // Whole blocks still get the rest of the budget.
        for (var i = 1; i <= 14; i++) cache.Get(Id(i), b => b.Fill((byte)i)).Dispose();
        Assert.That(cache.AllocatedBytes, Is.EqualTo(cache.BudgetBytes));
    }

    [Test]
    public void Misses_on_parts_evicted_lately_grow_the_parts_share_until_a_cycling_working_set_fits()
    {
        var cache = new BlockCache(16, blockSize: 4096); // 8 part slots at first
        BlockKey Part(int n) => BlockKey.PartOf(Id(100).Chunk!.Value, n);
        long missesOfLastPass = 0;
        for (var pass = 0; pass < 4; pass++)
        {
            var before = cache.Misses;
            for (var i = 0; i < 12; i++) cache.Get(Part(i), 1024, b => b.Fill((byte)i)).Dispose();
            missesOfLastPass = cache.Misses - before;
        }

        Assert.That(missesOfLastPass, Is.Zero, "12 parts cycling: the share grew to hold them");
        Assert.That(cache.PartSlabLimit, Is.EqualTo(3));
        Assert.That(cache.AllocatedBytes, Is.EqualTo(3 * 4096));
    }
}
