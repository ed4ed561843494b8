using Backy.Storage.Legacy;

namespace Backy.Tests.Legacy;

/// <summary>Our decoder against frames written by the real python-lzo.</summary>
public class PythonLzoTests
{
    private const int FourMiB = 4 * 1024 * 1024;
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("backy-lzo-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    public static IEnumerable<TestCaseData> Samples()
    {
        foreach (var level in new[] { 1, 9 })
        {
            yield return new TestCaseData("empty", 0, level);
            yield return new TestCaseData("one byte", 1, level);
            yield return new TestCaseData("a*100", 100, level);
            yield return new TestCaseData("random", 70_001, level);
            yield return new TestCaseData("text", 300_007, level);
            yield return new TestCaseData("mixed 4 MiB", FourMiB, level);
        }
        yield return new TestCaseData("zeros 4 MiB", FourMiB, 1);
        yield return new TestCaseData("spaces 4 MiB", FourMiB, 1);
    }

    [TestCaseSource(nameof(Samples)), CancelAfter(60_000)]
    public async Task Decompresses_what_python_lzo_wrote(string kind, int size, int level, CancellationToken ct)
    {
        var data = Make(kind, size);
        var frame = await PythonLzoTool.CompressAsync(data, level, _dir, ct);

        var result = PythonLzo.Decompress(frame, FourMiB);

        Assert.That(result, Is.EqualTo(data));
    }

    [Test, CancelAfter(60_000)]
    public async Task Header_is_f0_and_the_big_endian_length(CancellationToken ct)
    {
        var frame = await PythonLzoTool.CompressAsync(Make("a*100", 100), 1, _dir, ct);
        Assert.That(Convert.ToHexStringLower(frame.AsSpan(0, 5)), Is.EqualTo("f000000064"));
    }

    [Test, CancelAfter(60_000)]
    public async Task Every_truncation_is_a_clear_lzo_error(CancellationToken ct)
    {
        var frame = await PythonLzoTool.CompressAsync(Make("mixed", 20_000), 1, _dir, ct);
        for (var cut = 0; cut < frame.Length; cut++)
        {
            var truncated = frame.AsSpan(0, cut).ToArray();
            Assert.Throws<LzoException>(() => PythonLzo.Decompress(truncated, FourMiB), $"cut at {cut}");
        }
    }

    [Test, CancelAfter(120_000)]
    public async Task Random_corruption_never_escapes_as_anything_but_an_lzo_error(CancellationToken ct)
    {
        var data = Make("text", 60_000);
        var frame = await PythonLzoTool.CompressAsync(data, 1, _dir, ct);
        var random = new Random(4711);
        var failures = 0;
        for (var round = 0; round < 3000; round++)
        {
            var corrupt = (byte[])frame.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
                corrupt[random.Next(5, corrupt.Length)] = (byte)random.Next(256);
            try
            {
                PythonLzo.Decompress(corrupt, FourMiB);
            }
            catch (LzoException)
            {
                failures++;
            }
        }
        // Flips inside literals decode to other bytes (the chunk hash check catches those); the point
        // is that no other exception type (index out of range, overflow) ever escaped above.
        Assert.That(failures, Is.GreaterThan(0));
    }

    [Test]
    public void Wrong_magic_is_rejected()
    {
        var ex = Assert.Throws<LzoException>(() => PythonLzo.Decompress([0x1f, 0, 0, 0, 0, 0x11, 0, 0], FourMiB));
        Assert.That(ex!.Message, Does.Contain("0x1f"));
    }

    [Test]
    public void A_declared_length_above_the_limit_is_rejected_before_allocating()
    {
        var ex = Assert.Throws<LzoException>(() =>
            PythonLzo.Decompress([0xf0, 0xff, 0xff, 0xff, 0xff, 0x11, 0, 0], FourMiB));
        Assert.That(ex!.Message, Does.Contain("4294967295"));
    }

    [Test]
    public void Data_after_the_end_marker_is_rejected()
    {
        Assert.Throws<LzoException>(() => PythonLzo.Decompress([0xf0, 0, 0, 0, 0, 0x11, 0, 0, 0], FourMiB));
    }

    [Test]
    public void A_match_reaching_before_the_start_is_rejected()
    {
        // Four literals "abcd", then an M2 match 2041 bytes back.
        var frame = Convert.FromHexString("f000000008016162636440ff110000");
        var ex = Assert.Throws<LzoException>(() => PythonLzo.Decompress(frame, FourMiB));
        Assert.That(ex!.Message, Does.Contain("before the start"));
    }

    [Test]
    public void A_stream_longer_than_declared_is_rejected()
    {
        // 'a'*100 at level 1 with the header claiming 50 bytes.
        var frame = Convert.FromHexString(
            "f000000032026161616161202b1000000161616161616161616161616161616161616161110000");
        var ex = Assert.Throws<LzoException>(() => PythonLzo.Decompress(frame, FourMiB));
        Assert.That(ex!.Message, Does.Contain("overruns the output"));
    }

    internal static byte[] Make(string kind, int size)
    {
        var data = new byte[size];
        var random = new Random(size);
        switch (kind.Split(' ')[0])
        {
            case "a*100":
                Array.Fill(data, (byte)'a');
                break;
            case "one":
                data[0] = 42;
                break;
            case "random":
                random.NextBytes(data);
                break;
            case "spaces":
                Array.Fill(data, (byte)' ');
                break;
            case "text":
                var words = new[] { "backup ", "revision ", "chunk ", "restore ", "\n", "0123456789 " };
                for (var i = 0; i < size;)
                    foreach (var c in words[random.Next(words.Length)])
                        if (i < size) data[i++] = (byte)c;
                break;
            case "mixed":
                // Runs of random bytes, repeats at near and far distances, zero stretches.
                for (var i = 0; i < size;)
                {
                    var len = Math.Min(size - i, random.Next(1, 5000));
                    switch (random.Next(3))
                    {
                        case 0: random.NextBytes(data.AsSpan(i, len)); break;
                        case 1:
                            var back = Math.Min(i, random.Next(1, 60_000));
                            for (var j = 0; j < len; j++) data[i + j] = back == 0 ? (byte)7 : data[i - back + j];
                            break;
                        default: break;
                    }
                    i += len;
                }
                break;
        }
        return data;
    }
}
