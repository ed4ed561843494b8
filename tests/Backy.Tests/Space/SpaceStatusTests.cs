using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Tests.Storage.Support;
using Backy.Worker;
using YamlDotNet.RepresentationModel;

namespace Backy.Tests.Space;

/// <summary>
/// <c>status</c> says where the space goes (exclusive bytes per revision, bytes on disk, image bytes), through the real
/// <c>backy-worker</c>; every expectation is computed here from the chunk maps and chunk files on disk.
/// </summary>
public class SpaceStatusTests
{
    [Test, CancelAfter(180_000)]
    public async Task Exclusive_bytes_follow_the_chunks_each_revision_alone_uses_and_change_after_forget_and_purge(CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 6 * Blocks.Size, seed: 3);
        for (var b = 0; b < 6; b++) TestImages.Poke(t.ImagePath, TestImages.Block(b), seed: 100 + b); // no block is a hole
        var block4 = ReadAt(t.ImagePath, TestImages.Block(4), 4096);
        await Run(t, ct, "backup", "daily");                                   // A: the original blocks
        TestImages.Poke(t.ImagePath, TestImages.Block(1) + 100, seed: 7);
        TestImages.Poke(t.ImagePath, TestImages.Block(4), seed: 8);
        await Run(t, ct, "backup", "daily");                                   // B: blocks 1 and 4 changed
        WriteAt(t.ImagePath, TestImages.Block(4), block4);
        TestImages.Poke(t.ImagePath, TestImages.Block(3) + 7, seed: 9);
        await Run(t, ct, "backup", "daily");                                   // C: block 1 as B, 4 as A again, 3 changed
        var ids = t.Job.LoadRevisions().Select(r => r.Id).ToList();
        Assert.That(ids, Has.Count.EqualTo(3));

        var expected = Expected(t);
        Assert.That(ids.Select(id => expected.Exclusive[id]), Has.All.GreaterThan(0), "each revision owns a changed block");
        Assert.That(expected.Exclusive.Values.Sum(), Is.LessThan(expected.Stored), "the revisions also share chunks");
        var yaml = await Yaml(t, ct);
        Assert.That(yaml, Is.EqualTo(expected.Exclusive));
        var table = (await Run(t, ct, "status")).StdOut;
        Assert.That(table, Does.Contain("Exclusive"));
        foreach (var id in ids)
            Assert.That(Row(table, id), Does.Contain(Humanize.Size(expected.Exclusive[id])));
        Assert.That(table, Does.Contain($"{Humanize.Size(expected.Stored)} on disk (chunk files) for {Humanize.Size(expected.Images)} of images: "
            + ((double)expected.Images / expected.Stored).ToString("0.0", CultureInfo.InvariantCulture) + "x dedup x compression"));

        // A second status reads the cache (chunks/.space) instead of the chunk maps: a forged total shows.
        var cache = Path.Combine(t.JobPath, "chunks", ".space");
        for (var i = 0; i < 40 && !File.Exists(cache); i++)
        {
            await Task.Delay(500, ct); // the cache is written once the directories' mtimes are 2 s old
            await Run(t, ct, "status");
        }
        Assert.That(File.Exists(cache), "status wrote its cache");
        Forge(cache, "stored", 12345);
        Assert.That((await Run(t, ct, "status")).StdOut, Does.Contain($"{Humanize.Size(12345)} on disk"));

        await Run(t, ct, "forget", "-r", ids[1]);
        await Run(t, ct, "purge");
        var after = Expected(t);
        Assert.That(after.Stored, Is.EqualTo(expected.Stored - expected.Exclusive[ids[1]]), "purge deleted B's own chunks");
        Assert.That(after.Exclusive[ids[0]], Is.GreaterThan(expected.Exclusive[ids[0]]), "A now alone has block 3");
        Assert.That(after.Exclusive[ids[2]], Is.GreaterThan(expected.Exclusive[ids[2]]), "C now alone has B's block 1");
        Assert.That(await Yaml(t, ct), Is.EqualTo(after.Exclusive));
        Assert.That((await Run(t, ct, "status")).StdOut, Does.Contain($"{Humanize.Size(after.Stored)} on disk"));
    }

    [Test, CancelAfter(180_000)]
    public async Task Revisions_of_the_original_chunked_format_get_exclusive_bytes_and_a_cowfile_gets_none(CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("backy-space-legacy-").FullName;
        try
        {
            var builder = new Legacy.LegacyJobBuilder(dir);
            var cowfile = builder.AddCowfile(Legacy.LegacyJobBuilder.MakeImage(20, Blocks.Size + 1), Legacy.LegacyImagesTests.T(1), ["daily"]);
            var first = Legacy.LegacyJobBuilder.MakeImage(21, 3L * Blocks.Size + 4097);
            var a = builder.AddChunked(first, Legacy.LegacyImagesTests.T(2), ["daily"]);
            var b = builder.AddChunked(Legacy.LegacyJobBuilder.MakeImage(22, 3L * Blocks.Size + 4097, first, changedBlocks: 2),
                Legacy.LegacyImagesTests.T(3), ["daily"]);
            await builder.FinishAsync(ct);

            // From the files: the original's JSON maps and its *.chunk.lzo files.
            var users = new Dictionary<string, HashSet<string>>();
            foreach (var id in new[] { a, b })
                foreach (var hash in System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, id)))
                             .RootElement.GetProperty("mapping").EnumerateObject().Select(p => p.Value.GetString()!))
                    (users.TryGetValue(hash, out var set) ? set : users[hash] = []).Add(id);
            long Exclusive(string id) => users.Where(u => u.Value.Count == 1 && u.Value.Contains(id)).Sum(u => new FileInfo(builder.ChunkPath(u.Key)).Length);
            Assert.That(Exclusive(a), Is.GreaterThan(0));
            Assert.That(Exclusive(b), Is.GreaterThan(0));
            Assert.That(users.Values.Any(u => u.Count == 2), "the two revisions share chunks");

            var r = await WorkerProcess.RunAsync(dir, ct, "status", "--yaml");
            Assert.That(r.ExitCode, Is.Zero, r.StdErr);
            var stream = new YamlStream();
            stream.Load(new StringReader(r.StdOut));
            var byId = ((YamlSequenceNode)stream.Documents[0].RootNode).Cast<YamlMappingNode>()
                .ToDictionary(m => ((YamlScalarNode)m["uuid"]).Value!);
            Assert.That(((YamlScalarNode)byId[a]["exclusive_bytes"]).Value, Is.EqualTo(Exclusive(a).ToString(CultureInfo.InvariantCulture)));
            Assert.That(((YamlScalarNode)byId[b]["exclusive_bytes"]).Value, Is.EqualTo(Exclusive(b).ToString(CultureInfo.InvariantCulture)));
            Assert.That(byId[cowfile].Children.ContainsKey("exclusive_bytes"), Is.False, "a cowfile's data is its own file, not chunks");
            var stored = Directory.EnumerateFiles(builder.ChunkDir, "*.chunk.lzo", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            var table = await WorkerProcess.RunAsync(dir, ct, "status");
            Assert.That(table.StdOut, Does.Contain($"{Humanize.Size(stored)} on disk (chunk files)"));
            Assert.That(Row(table.StdOut, cowfile), Does.Contain(" - "));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    sealed record Expectation(Dictionary<string, long> Exclusive, long Stored, long Images);

    /// <summary>From the files: each revision's chunk set, the users of each chunk, each chunk file's size.</summary>
    static Expectation Expected(TestJob t)
    {
        var revisions = t.Job.LoadRevisions();
        var maps = revisions.ToDictionary(r => r.Id, r => ChunkMapReader.Read(t.Job.ChunkMapPath(r.Id)));
        var users = new Dictionary<ChunkId, HashSet<string>>();
        foreach (var (id, map) in maps)
            foreach (var chunk in map.Entries.Where(e => e != ChunkMap.Hole))
                (users.TryGetValue(chunk, out var set) ? set : users[chunk] = []).Add(id);
        var exclusive = revisions.ToDictionary(r => r.Id, r => users.Where(u => u.Value.Count == 1 && u.Value.Contains(r.Id))
            .Sum(u => new FileInfo(t.Job.Chunks.PathOf(u.Key)).Length));
        var stored = t.Job.Chunks.EnumerateChunks().Sum(c => new FileInfo(c.Path).Length);
        return new Expectation(exclusive, stored, maps.Values.Sum(m => m.ImageSize));
    }

    static async Task<Dictionary<string, long>> Yaml(TestJob t, CancellationToken ct)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader((await Run(t, ct, "status", "--yaml")).StdOut));
        return ((YamlSequenceNode)stream.Documents[0].RootNode).Cast<YamlMappingNode>().ToDictionary(
            m => ((YamlScalarNode)m["uuid"]).Value!,
            m => long.Parse(((YamlScalarNode)m["exclusive_bytes"]).Value!, CultureInfo.InvariantCulture));
    }

    static string Row(string table, string id) => table.Split('\n').Single(l => l.Contains(id, StringComparison.Ordinal));

    /// <summary>Rewrites one number of the cache file with a valid checksum.</summary>
    static void Forge(string cache, string key, long value)
    {
        var lines = File.ReadAllText(cache).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith("end ", StringComparison.Ordinal))
            .Select(l => l.StartsWith(key + " ", StringComparison.Ordinal) ? $"{key} {value}" : l);
        var body = string.Concat(lines.Select(l => l + "\n"));
        File.WriteAllText(cache, $"{body}end {XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(body)):x16}\n");
    }

    static async Task<WorkerProcess.Result> Run(TestJob t, CancellationToken ct, params string[] args)
    {
        var r = await WorkerProcess.RunAsync(t.JobPath, ct, args);
        Assert.That(r.ExitCode, Is.Zero, $"{string.Join(' ', args)}: {r.StdErr}");
        return r;
    }

    static byte[] ReadAt(string path, long offset, int length)
    {
        using var f = File.OpenRead(path);
        f.Position = offset;
        var data = new byte[length];
        f.ReadExactly(data);
        return data;
    }

    static void WriteAt(string path, long offset, byte[] data)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Write);
        f.Position = offset;
        f.Write(data);
    }
}
