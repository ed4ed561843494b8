using Backy.Sources.Ceph;
using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Ceph.Cluster;

/// <summary>
/// Test-side image manipulation with the real rbd tool: creating images, writing known bytes at chosen offsets
/// (through <c>rbd import-diff</c> of a crafted "rbd diff v1" stream, the only way to write a range with the CLI),
/// discarding ranges, resizing and snapshotting behind Backy's back.
/// </summary>
internal static class TestImages
{
    private static int _counter;

    public static RbdImageSpec NewName(string prefix) =>
        new("rbd", $"{prefix}-{Interlocked.Increment(ref _counter)}-{Guid.NewGuid().ToString("N")[..6]}");

    public static async Task<RbdImageSpec> CreateAsync(string prefix, long size, CancellationToken ct)
    {
        var image = NewName(prefix);
        await RbdAsync(ct, "create", "--size", $"{size}B", image.ToString());
        return image;
    }

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/> and zeroes (discards) the given ranges.</summary>
    public static async Task WriteAsync(RbdImageSpec image, long imageSize, CancellationToken ct, params (long Offset, byte[]? Data, long ZeroLength)[] writes)
    {
        var diff = new RbdDiffBuilder().Size(imageSize);
        foreach (var (offset, data, zero) in writes.OrderBy(w => w.Offset))
            diff = data is null ? diff.Zero(offset, zero) : diff.Write(offset, data);
        var bytes = diff.End().ToArray();
        await Command("import-diff", "--no-progress", "-", image.ToString())
            .WithStandardInputPipe(PipeSource.FromBytes(bytes))
            .ExecuteBufferedAsync(ct);
    }

    public static async Task<byte[]> ExportAsync(RbdImageSpec image, string snapshot, CancellationToken ct)
    {
        using var output = new MemoryStream();
        await Command("export", "--no-progress", image.At(snapshot), "-")
            .WithStandardOutputPipe(PipeTarget.ToStream(output))
            .ExecuteAsync(ct);
        return output.ToArray();
    }

    /// <summary>The image's current content (no snapshot).</summary>
    public static async Task<byte[]> ExportHeadAsync(RbdImageSpec image, CancellationToken ct)
    {
        using var output = new MemoryStream();
        await Command("export", "--no-progress", image.ToString(), "-")
            .WithStandardOutputPipe(PipeTarget.ToStream(output))
            .ExecuteAsync(ct);
        return output.ToArray();
    }

    /// <summary>Bytes the image has allocated (<c>rbd du</c>; exact with fast-diff).</summary>
    public static async Task<long> UsedBytesAsync(RbdImageSpec image, CancellationToken ct)
    {
        using var json = System.Text.Json.JsonDocument.Parse(await RbdOutputAsync(ct, "du", "--format", "json", image.ToString()));
        return json.RootElement.GetProperty("images").EnumerateArray().Single(i => i.GetProperty("name").GetString() == image.Image)
            .GetProperty("used_size").GetInt64();
    }

    /// <summary>The image's features and object size as <c>rbd info</c> shows them, e.g. "layering,exclusive-lock,... order 22".</summary>
    public static async Task<string> LayoutAsync(RbdImageSpec image, CancellationToken ct)
    {
        using var json = System.Text.Json.JsonDocument.Parse(await RbdOutputAsync(ct, "info", "--format", "json", image.ToString()));
        var features = json.RootElement.GetProperty("features").EnumerateArray().Select(f => f.GetString()!);
        return $"{string.Join(",", features)} order {json.RootElement.GetProperty("order").GetInt32()}";
    }

    /// <summary>The image's snapshot names, sorted, as <c>rbd snap ls</c> (the CLI, not Backy's librbd code) shows them.</summary>
    public static async Task<string[]> SnapshotsAsync(RbdImageSpec image, CancellationToken ct)
    {
        using var json = System.Text.Json.JsonDocument.Parse(await RbdOutputAsync(ct, "snap", "ls", "--format", "json", image.ToString()));
        return json.RootElement.EnumerateArray().Select(s => s.GetProperty("name").GetString()!).Order(StringComparer.Ordinal).ToArray();
    }

    public static Task RbdAsync(CancellationToken ct, params string[] arguments) => Command(arguments).ExecuteBufferedAsync(ct).Task;

    public static async Task<string> RbdOutputAsync(CancellationToken ct, params string[] arguments) =>
        (await Command(arguments).ExecuteBufferedAsync(ct)).StandardOutput;

    private static Command Command(params string[] arguments) =>
        CliWrap.Cli.Wrap("rbd").WithArguments(arguments)
            .WithEnvironmentVariables(e => e.Set("CEPH_ARGS", CephClusterFixture.Options.CephArgs));

    public static byte[] Random(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
