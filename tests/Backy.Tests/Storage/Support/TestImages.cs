using Backy.Storage.Chunks;

namespace Backy.Tests.Storage.Support;

/// <summary>Seeded test images: text-like, random and zero regions that cross the 4 MiB block boundaries.</summary>
public static class TestImages
{
    /// <summary>Writes <paramref name="size"/> bytes of mixed content; regions of 1.5 MiB so they straddle blocks.</summary>
    public static void WriteMixed(string path, long size, int seed = 1)
    {
        var rnd = new Random(seed);
        using var f = new FileStream(path, FileMode.Create, FileAccess.Write);
        var region = new byte[3 * 512 * 1024];
        var text = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 40000).Select(i => $"block {i % 97} backup chunk ")));
        long written = 0;
        while (written < size)
        {
            var n = (int)Math.Min(region.Length, size - written);
            switch (rnd.Next(3))
            {
                case 0: Array.Clear(region); break;
                case 1:
                    // Text from a random starting point, copied in runs: compressible, but not one repeated block.
                    for (int i = 0, from = rnd.Next(text.Length); i < n; from = rnd.Next(text.Length))
                    {
                        var run = Math.Min(n - i, text.Length - from);
                        text.AsSpan(from, run).CopyTo(region.AsSpan(i));
                        i += run;
                    }
                    break;
                default: rnd.NextBytes(region); break;
            }
            f.Write(region, 0, n);
            written += n;
        }
    }

    /// <summary>Overwrites 4 KiB at <paramref name="offset"/> with random bytes.</summary>
    public static void Poke(string path, long offset, int seed = 7, int length = 4096)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        using var f = new FileStream(path, FileMode.Open, FileAccess.Write);
        f.Position = offset;
        f.Write(data);
    }

    public static long Block(int n) => (long)n * Blocks.Size;
}
