using System.Diagnostics;
using Backy.Daemon.Config;
using Backy.Storage;
using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.Revisions;

namespace Backy.Tests.Reliability;

/// <summary>
/// Seeded mutation fuzzing of the readers that see bytes from disk: each starts from a valid sample, applies
/// random flips, truncations, insertions and splices, and accepts only success or a <see cref="BackyException"/>.
/// Each runs for at most <see cref="Budget"/> or <see cref="MaxCases"/> cases, so a run is bounded and the case
/// sequence is reproducible from the seed (a failure message names the seed and case).
/// </summary>
public class ParserFuzzTests
{
    static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);
    const int MaxCases = 1_500;
    const int Seed = 8;

    static void Fuzz(byte[] sample, Action<byte[]> parse)
    {
        var rnd = new Random(Seed);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < MaxCases && clock.Elapsed < Budget; i++)
        {
            var input = Mutate(sample, rnd);
            try { parse(input); }
            catch (BackyException) { }
            catch (Exception e)
            {
                Assert.Fail($"seed {Seed} case {i}: {e.GetType().Name}: {e.Message}\ninput (base64): {Convert.ToBase64String(input)}");
            }
        }
    }

    static byte[] Mutate(byte[] sample, Random rnd)
    {
        var data = new List<byte>(sample);
        for (var n = rnd.Next(1, 6); n > 0; n--)
        {
            var at = data.Count == 0 ? 0 : rnd.Next(data.Count);
            switch (rnd.Next(5))
            {
                case 0 when data.Count > 0: data[at] ^= (byte)(1 << rnd.Next(8)); break;
                case 1 when data.Count > 0: data[at] = (byte)rnd.Next(256); break;
                case 2: data.RemoveRange(at, rnd.Next(data.Count - at + 1)); break;
                case 3: data.InsertRange(at, Enumerable.Range(0, rnd.Next(1, 9)).Select(_ => "\0\n:{[-'\"&*!|>%@`#,? \xff"u8[rnd.Next(19)])); break;
                default: // splice a random slice of the sample somewhere else
                    var from = rnd.Next(sample.Length);
                    data.InsertRange(at, sample.Skip(from).Take(rnd.Next(1, 32)));
                    break;
            }
        }
        return data.ToArray();
    }

    [Test, CancelAfter(60_000)]
    public void Chunk_map_reader_throws_only_typed_errors(CancellationToken ct)
    {
        var map = new ChunkMap(3L * Blocks.Size - 5);
        map.Entries[0] = ChunkId.Of("a"u8);
        map.Entries[2] = ChunkId.Of("b"u8);
        Fuzz(ChunkMapWriter.Serialize(map), bytes => ChunkMapReader.Parse(bytes, "map"));
    }

    [Test, CancelAfter(60_000)]
    public void Rev_file_reader_throws_only_typed_errors(CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("backy-fuzz-");
        try
        {
            var path = Path.Combine(dir.FullName, "r.rev");
            var rev = new Revision { Id = "DsyUN8pcQ8ZAGKpiVFgDBy", Timestamp = DateTimeOffset.UnixEpoch, Duration = 1.5, BytesWritten = 7 };
            rev.Tags.Add("daily");
            var sample = System.Text.Encoding.UTF8.GetBytes(RevisionFile.Serialize(rev));
            Fuzz(sample, bytes => { File.WriteAllBytes(path, bytes); RevisionFile.Read(path); });
        }
        finally { dir.Delete(true); }
    }

    [Test, CancelAfter(60_000)]
    public void Chunk_decoding_throws_only_typed_errors(CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("backy-fuzz-");
        try
        {
            var store = new ChunkStore(dir.FullName);
            var block = new byte[64 * 1024];
            for (var i = 0; i < block.Length; i++) block[i] = (byte)(i % 251 < 200 ? 'x' : i);
            var id = ChunkId.Of(block);
            var scratch = new byte[ChunkStore.ScratchSize];
            var sample = scratch.AsSpan(0, ChunkStore.Encode(block, scratch, ChunkCompression.Lz4Whole)).ToArray();
            var parts = scratch.AsSpan(0, ChunkStore.Encode(block, scratch, ChunkCompression.Lz4Parts)).ToArray();
            Directory.CreateDirectory(Path.GetDirectoryName(store.PathOf(id))!);
            var destination = new byte[Blocks.Size];
            Fuzz(sample, bytes => { File.WriteAllBytes(store.PathOf(id), bytes); store.Read(id, destination, scratch); });
            // Encoding 3: the whole read and a part read (the NBD server's) of a damaged parts chunk.
            Fuzz(parts, bytes => { File.WriteAllBytes(store.PathOf(id), bytes); store.Read(id, destination, scratch); });
            Fuzz(parts, bytes => { File.WriteAllBytes(store.PathOf(id), bytes); store.ReadPart(id, ChunkParts.DefaultPartSize, 0, block.Length, destination); });
        }
        finally { dir.Delete(true); }
    }

    [Test, CancelAfter(60_000)]
    public void Daemon_config_reader_throws_only_typed_errors(CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("backy-fuzz-");
        try
        {
            var path = Path.Combine(dir.FullName, "backy.conf");
            var sample = File.ReadAllBytes(Path.Combine(RepoRoot(), "conf", "backy.conf.example"));
            Fuzz(sample, bytes => { File.WriteAllBytes(path, bytes); DaemonConfigReader.Load(path); });
        }
        finally { dir.Delete(true); }
    }

    static string RepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "backy.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("backy.sln not found above the test assembly");
    }
}
