using Backy.Storage.Chunks;
using Backy.Storage.Jobs;
using Backy.Storage.Legacy;
using Backy.Tests.Storage.Support;

namespace Backy.Tests.Legacy;

/// <summary>Reading revisions the Python backy wrote, directly, without converting them.</summary>
public class LegacyImagesTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("backy-legacy-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [TestCase(false), TestCase(true), CancelAfter(120_000)]
    public async Task Chunked_and_cowfile_revisions_read_back_bit_identically(bool v1Layout, CancellationToken ct)
    {
        var builder = new LegacyJobBuilder(_dir, v1Layout);
        var first = LegacyJobBuilder.MakeImage(1, 3L * LegacyJobBuilder.Block + 12_345);
        var cow = builder.AddCowfile(LegacyJobBuilder.MakeImage(2, LegacyJobBuilder.Block + 7), T(1), ["daily"]);
        var a = builder.AddChunked(first, T(2), ["daily"]);
        var b = builder.AddChunked(LegacyJobBuilder.MakeImage(3, first.Length + LegacyJobBuilder.Block, first), T(3), ["daily"], omitZeroBlocks: false);
        await builder.FinishAsync(ct);
        var job = new JobDirectory(_dir);

        foreach (var id in new[] { cow, a, b })
            Bytes.AssertSame(builder.Images[id], RevisionImageReader.Read(job, id), id);
    }

    [Test, CancelAfter(120_000)]
    public async Task A_chunk_with_other_content_fails_with_the_chunk_named(CancellationToken ct)
    {
        var builder = new LegacyJobBuilder(_dir);
        var id = builder.AddChunked(LegacyJobBuilder.MakeImage(5, 2L * LegacyJobBuilder.Block), T(1), ["daily"]);
        await builder.FinishAsync(ct);
        var job = new JobDirectory(_dir);
        var victim = Directory.EnumerateFiles(builder.ChunkDir, "*.chunk.lzo", SearchOption.AllDirectories).First();
        var other = Directory.EnumerateFiles(builder.ChunkDir, "*.chunk.lzo", SearchOption.AllDirectories).Last();
        File.Copy(other, victim, overwrite: true);

        var ex = Assert.Throws<ChunkCorruptedException>(() => RevisionImageReader.Read(job, id));

        Assert.That(ex!.Message, Does.Contain(Path.GetFileName(victim).Replace(".chunk.lzo", "")).And.Contain("hashes to"));
    }

    [Test, CancelAfter(120_000)]
    public async Task A_missing_chunk_fails_as_missing(CancellationToken ct)
    {
        var builder = new LegacyJobBuilder(_dir);
        var id = builder.AddChunked(LegacyJobBuilder.MakeImage(6, LegacyJobBuilder.Block), T(1), ["daily"]);
        await builder.FinishAsync(ct);
        File.Delete(Directory.EnumerateFiles(builder.ChunkDir, "*.chunk.lzo", SearchOption.AllDirectories).Single());

        var ex = Assert.Throws<ChunkCorruptedException>(() => RevisionImageReader.Read(new JobDirectory(_dir), id));

        Assert.That(ex!.Message, Does.EndWith("missing"));
    }

    [Test]
    public void A_chunk_map_that_is_not_json_is_rejected_with_its_path()
    {
        var path = Path.Combine(_dir, "map");
        File.WriteAllText(path, "{\"mapping\": {\"x\": \"00\"}, \"size\": 4}");

        var ex = Assert.Throws<Backy.Storage.BackyException>(() => LegacyChunkMap.Read(path));

        Assert.That(ex!.Message, Does.Contain(path).And.Contain("block key 'x'"));
    }

    internal static DateTimeOffset T(int day) => new(2024, 1, day, 3, 0, 0, TimeSpan.Zero);
}
