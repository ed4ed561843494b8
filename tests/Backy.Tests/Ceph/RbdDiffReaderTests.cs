using Backy.Sources.Ceph;
using Backy.Storage;
using Backy.Storage.Backup;

namespace Backy.Tests.Ceph;

public class RbdDiffReaderTests
{
    private const int MiB = 1 << 20;

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>Parses a whole diff into (extent, data) pairs, reading data in pieces of <paramref name="piece"/> bytes.</summary>
    private static async Task<List<(DiffExtent Extent, byte[]? Data)>> ParseAll(Stream stream, int piece = 4 * MiB)
    {
        await using var reader = new RbdDiffReader(stream, "test");
        var result = new List<(DiffExtent, byte[]?)>();
        while (await reader.ReadNextExtentAsync(CancellationToken.None) is { } extent)
        {
            if (extent.IsZero) { result.Add((extent, null)); continue; }
            var data = new byte[extent.Length];
            for (var at = 0; at < data.Length; at += piece)
                await reader.ReadDataAsync(data.AsMemory(at, Math.Min(piece, data.Length - at)), CancellationToken.None);
            result.Add((extent, data));
        }
        return result;
    }

    [Test]
    public async Task Reads_names_size_data_and_zero_extents_in_order()
    {
        var a = Pattern(5 * MiB, 1);
        var b = Pattern(17, 2);
        var bytes = new RbdDiffBuilder().Name('f', "backy-old").Name('t', "backy-new").Size(64 * MiB)
            .Write(3 * MiB, a).Zero(9 * MiB, 2 * MiB).Write(60 * MiB, b).End().ToArray();

        await using var reader = new RbdDiffReader(new MemoryStream(bytes), "test");
        var first = await reader.ReadNextExtentAsync(CancellationToken.None);
        Assert.That(first, Is.EqualTo(new DiffExtent(3 * MiB, 5 * MiB, false)));
        Assert.That((reader.FromSnapshot, reader.ToSnapshot, reader.ImageSize), Is.EqualTo(("backy-old", "backy-new", (long?)(64 * MiB))));
        var got = new byte[a.Length];
        await reader.ReadDataAsync(got, CancellationToken.None);
        Assert.That(got, Is.EqualTo(a));
        Assert.That(await reader.ReadNextExtentAsync(CancellationToken.None), Is.EqualTo(new DiffExtent(9 * MiB, 2 * MiB, true)));
        Assert.That(await reader.ReadNextExtentAsync(CancellationToken.None), Is.EqualTo(new DiffExtent(60 * MiB, 17, false)));
        var small = new byte[17];
        await reader.ReadDataAsync(small, CancellationToken.None);
        Assert.That(small, Is.EqualTo(b));
        Assert.That(await reader.ReadNextExtentAsync(CancellationToken.None), Is.Null);
        Assert.That(await reader.ReadNextExtentAsync(CancellationToken.None), Is.Null);
    }

    [Test]
    public async Task Unread_data_is_skipped_when_asking_for_the_next_extent()
    {
        var bytes = new RbdDiffBuilder().Size(16 * MiB).Write(0, Pattern(3 * MiB, 3)).Zero(4 * MiB, 1).End().ToArray();
        await using var reader = new RbdDiffReader(new MemoryStream(bytes), "test");
        await reader.ReadNextExtentAsync(CancellationToken.None);
        await reader.ReadDataAsync(new byte[100], CancellationToken.None);
        Assert.That(await reader.ReadNextExtentAsync(CancellationToken.None), Is.EqualTo(new DiffExtent(4 * MiB, 1, true)));
    }

    [Test]
    public async Task A_stream_trickling_one_byte_at_a_time_parses_the_same()
    {
        var data = Pattern(70_000, 4);
        var bytes = new RbdDiffBuilder().Name('t', "s").Size(MiB).Write(10, data).Zero(80_000, 5).End().ToArray();
        var fast = await ParseAll(new MemoryStream(bytes));
        var slow = await ParseAll(new TrickleStream(bytes, 1), piece: 4093);
        Assert.That(slow.Select(x => x.Extent), Is.EqualTo(fast.Select(x => x.Extent)));
        Assert.That(slow[0].Data, Is.EqualTo(data));
    }

    [Test]
    public async Task An_empty_diff_has_no_extents()
    {
        var bytes = new RbdDiffBuilder().Name('f', "a").Name('t', "b").Size(MiB).End().ToArray();
        Assert.That(await ParseAll(new MemoryStream(bytes)), Is.Empty);
    }

    private static IEnumerable<TestCaseData> Malformed()
    {
        TestCaseData Case(string name, byte[] bytes, string reason) => new TestCaseData(bytes, reason).SetName(name);
        yield return Case("Empty stream", [], "bad header");
        yield return Case("Bad header", "rbd diff v2\n"u8.ToArray(), "bad header");
        yield return Case("Short header", "rbd di"u8.ToArray(), "bad header");
        yield return Case("Unknown record type", new RbdDiffBuilder().Size(10).Raw("x"u8.ToArray()).ToArray(), "unknown record type 0x78");
        yield return Case("No end record", new RbdDiffBuilder().Size(10).ToArray(), "truncated in the record tag");
        yield return Case("Truncated size", new RbdDiffBuilder().Raw("s\x01\x02"u8.ToArray()).ToArray(), "truncated in the image size");
        yield return Case("Truncated data", new RbdDiffBuilder().Size(100).Raw("w"u8.ToArray()).U64(0).U64(50).Raw(new byte[20]).ToArray(), "truncated: 30 bytes");
        yield return Case("Truncated name", new RbdDiffBuilder().Raw("f"u8.ToArray()).U32(10).Raw("abc"u8.ToArray()).ToArray(), "truncated in the snapshot name");
        yield return Case("Absurd name length", new RbdDiffBuilder().Raw("t"u8.ToArray()).U32(uint.MaxValue).ToArray(), "absurd snapshot name length");
        yield return Case("Absurd image size", new RbdDiffBuilder().Raw("s"u8.ToArray()).U64(ulong.MaxValue).ToArray(), "absurd image size");
        yield return Case("Absurd extent length", new RbdDiffBuilder().Size(100).Raw("w"u8.ToArray()).U64(0).U64(ulong.MaxValue).ToArray(), "absurd extent length");
        yield return Case("Extent beyond the image", new RbdDiffBuilder().Size(100).Zero(90, 11).End().ToArray(), "outside the image of 100 bytes");
        yield return Case("Extent before the size", new RbdDiffBuilder().Zero(0, 1).Size(100).End().ToArray(), "before the image size record");
        yield return Case("Overlapping extents", new RbdDiffBuilder().Size(100).Zero(10, 10).Zero(15, 1).End().ToArray(), "overlaps");
        yield return Case("Data after the end", new RbdDiffBuilder().Size(100).End().Raw([0]).ToArray(), "data after the end record");
    }

    [TestCaseSource(nameof(Malformed))]
    [CancelAfter(10_000)]
    public async Task Malformed_stream_fails_with_a_clear_error(byte[] bytes, string reason)
    {
        var e = await Assert.ThrowsAsync<BackyException>(() => ParseAll(new MemoryStream(bytes)));
        Assert.That(e!.Message, Does.StartWith("malformed rbd diff from test at byte ").And.Contain(reason));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Randomly_damaged_streams_fail_cleanly_or_parse_within_bounds()
    {
        // Seeded, so a failure reproduces; bounded by time so that it never slows the suite.
        var rng = new Random(20261126);
        var valid = new RbdDiffBuilder().Name('f', "backy-a").Name('t', "backy-b").Size(8 * MiB)
            .Write(100, Pattern(3000, 5)).Zero(4 * MiB - 10, 20).Write(5 * MiB, Pattern(40_000, 6)).End().ToArray();
        var deadline = DateTime.UtcNow.AddSeconds(3);
        var iterations = 0;
        var rejected = 0;
        while (DateTime.UtcNow < deadline)
        {
            var bytes = Mutate(valid, rng);
            iterations++;
            try
            {
                foreach (var (extent, data) in await ParseAll(new TrickleStream(bytes, rng.Next(1, 9000)), piece: rng.Next(1, 70_000)))
                {
                    Assert.That(extent.Offset + extent.Length, Is.LessThanOrEqualTo(1L << 62));
                    if (data is not null) Assert.That(data.LongLength, Is.EqualTo(extent.Length));
                }
            }
            catch (BackyException e)
            {
                Assert.That(e.Message, Does.StartWith("malformed rbd diff from test at byte "));
                rejected++;
            }
        }
        Assert.That(rejected, Is.GreaterThan(0), $"{iterations} mutations, none rejected");
    }

    private static byte[] Mutate(byte[] valid, Random rng)
    {
        var bytes = (byte[])valid.Clone();
        switch (rng.Next(3))
        {
            case 0:
                for (var i = rng.Next(1, 4); i > 0; i--) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
                return bytes;
            case 1:
                return bytes[..rng.Next(bytes.Length)];
            default:
                // Damage the structured part (header and record fields) where the parser makes decisions.
                bytes[rng.Next(Math.Min(bytes.Length, 80))] ^= (byte)(1 << rng.Next(8));
                return bytes;
        }
    }
}
