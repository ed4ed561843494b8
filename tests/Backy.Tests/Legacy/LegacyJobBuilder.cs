using System.Globalization;
using System.Text;
using System.Text.Json;
using Backy.Storage.Legacy;

namespace Backy.Tests.Legacy;

/// <summary>
/// Writes a job directory exactly as the Python backy 2.x leaves it: .rev YAML in PyYAML's shape,
/// JSON chunk maps, chunk files compressed by the real python-lzo and named by MurmurHash3, raw
/// cowfile images, the store marker and the `last` symlinks.
/// </summary>
internal sealed class LegacyJobBuilder
{
    public const int Block = 4 * 1024 * 1024;

    private readonly List<(string Source, string Destination)> _pendingChunks = [];
    private readonly HashSet<string> _written = [];
    private readonly string _scratch;

    public string Path { get; }
    public bool V1Layout { get; }
    public string ChunkDir => System.IO.Path.Combine(Path, "chunks");

    /// <summary>Every revision added: id -> the image it holds.</summary>
    public Dictionary<string, byte[]> Images { get; } = [];
    public List<string> Order { get; } = [];

    public LegacyJobBuilder(string path, bool v1Layout = false)
    {
        Path = path;
        V1Layout = v1Layout;
        Directory.CreateDirectory(ChunkDir);
        _scratch = Directory.CreateTempSubdirectory("backy-legacy-src-").FullName;
        if (!v1Layout)
            File.WriteAllText(System.IO.Path.Combine(ChunkDir, "store"), "v2");
    }

    public string ChunkPath(string hash) => V1Layout
        ? System.IO.Path.Combine(ChunkDir, hash[..2], hash[2..4], hash + ".chunk.lzo")
        : System.IO.Path.Combine(ChunkDir, hash[..2], hash + ".chunk.lzo");

    /// <summary>A chunked revision. Zero blocks are left out of the mapping when <paramref name="omitZeroBlocks"/>.</summary>
    public string AddChunked(byte[] image, DateTimeOffset timestamp, string[] tags, string trust = "trusted",
        bool omitZeroBlocks = true, string? id = null)
    {
        id ??= Backy.Storage.Revisions.RevisionId.New();
        var mapping = new SortedDictionary<int, string>();
        for (var block = 0; (long)block * Block < image.Length; block++)
        {
            var data = image.AsSpan(block * Block, (int)Math.Min(Block, image.Length - (long)block * Block));
            if (omitZeroBlocks && !data.ContainsAnyExcept((byte)0)) continue;
            var hash = MurmurHash3.HexDigest(data);
            mapping[block] = hash;
            if (_written.Add(hash))
            {
                var src = System.IO.Path.Combine(_scratch, hash);
                File.WriteAllBytes(src, data.ToArray());
                var dst = ChunkPath(hash);
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(dst)!);
                _pendingChunks.Add((src, dst));
            }
        }
        // The original writes json.dump({'mapping': {int: str}, 'size': N}): keys become strings.
        var json = JsonSerializer.Serialize(new { mapping = mapping.ToDictionary(e => e.Key.ToString(CultureInfo.InvariantCulture), e => e.Value), size = image.LongLength });
        File.WriteAllText(System.IO.Path.Combine(Path, id), json);
        WriteRev(id, "chunked", timestamp, tags, trust);
        Remember(id, image);
        return id;
    }

    /// <summary>A cowfile revision; old ones have no backend_type at all.</summary>
    public string AddCowfile(byte[] image, DateTimeOffset timestamp, string[] tags, bool withBackendType = false)
    {
        var id = Backy.Storage.Revisions.RevisionId.New();
        File.WriteAllBytes(System.IO.Path.Combine(Path, id), image);
        WriteRev(id, withBackendType ? "cowfile" : null, timestamp, tags, "trusted");
        Remember(id, image);
        return id;
    }

    /// <summary>Compresses the chunks with python-lzo and sets the original's permissions and links.</summary>
    public async Task FinishAsync(CancellationToken ct)
    {
        await PythonLzoTool.CompressFilesAsync(_pendingChunks, 1, ct);
        _pendingChunks.Clear();
        Directory.Delete(_scratch, recursive: true);
        foreach (var file in Directory.EnumerateFiles(Path).Concat(Directory.EnumerateFiles(ChunkDir, "*.chunk.lzo", SearchOption.AllDirectories)))
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.GroupRead);
        var newest = Order[^1];
        File.CreateSymbolicLink(System.IO.Path.Combine(Path, "last"), System.IO.Path.Combine(Path, newest));
        File.CreateSymbolicLink(System.IO.Path.Combine(Path, "last.rev"), System.IO.Path.Combine(Path, newest + ".rev"));
    }

    public string RevPath(string id) => System.IO.Path.Combine(Path, id + ".rev");

    private void Remember(string id, byte[] image)
    {
        Images[id] = image;
        Order.Add(id);
    }

    /// <summary>PyYAML's yaml.safe_dump: sorted keys, block style, datetime with +00:00.</summary>
    private void WriteRev(string id, string? backendType, DateTimeOffset timestamp, string[] tags, string trust)
    {
        var parent = Order.Count > 0 ? Order[^1] : null;
        var sb = new StringBuilder();
        if (backendType is not null) sb.Append("backend_type: ").Append(backendType).Append('\n');
        sb.Append("parent: ").Append(parent ?? "null").Append('\n');
        sb.Append("stats:\n  bytes_written: 12345\n  chunk_stats:\n    write_full: 3\n    write_partial: 1\n  duration: 2.5\n");
        sb.Append(tags.Length == 0 ? "tags: []\n" : "tags:\n" + string.Concat(tags.Select(t => $"- {t}\n")));
        sb.Append("timestamp: ").Append(timestamp.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)).Append("+00:00\n");
        sb.Append("trust: ").Append(trust).Append('\n');
        sb.Append("uuid: ").Append(id).Append('\n');
        File.WriteAllText(RevPath(id), sb.ToString());
    }

    /// <summary>Seeded image data: random runs, zero stretches, an odd tail; <paramref name="basis"/> shares blocks.</summary>
    public static byte[] MakeImage(int seed, long size, byte[]? basis = null, int changedBlocks = 1)
    {
        var random = new Random(seed);
        var image = new byte[size];
        if (basis is not null)
        {
            basis.AsSpan(0, (int)Math.Min(basis.Length, size)).CopyTo(image);
            var blocks = (int)((size + Block - 1) / Block);
            for (var i = 0; i < changedBlocks; i++)
            {
                var at = (long)random.Next(blocks) * Block + random.Next(Block - 5000);
                if (at + 5000 <= size) random.NextBytes(image.AsSpan((int)at, 5000));
            }
            return image;
        }
        for (long at = 0; at < size;)
        {
            var len = (int)Math.Min(size - at, random.Next(1, 3 * Block / 2));
            if (random.Next(3) > 0) random.NextBytes(image.AsSpan((int)at, len));
            at += len;
        }
        return image;
    }
}
