#:project ../../src/Backy.Storage/Backy.Storage.csproj
// Writes a synthetic job for timing `status`: REVISIONS revisions of an image of IMAGE_GIB GiB, a fraction USED of its
// blocks holding data (the rest holes), CHANGED of the used blocks new in each revision after the first. Chunk maps are
// real (our format, checksummed); chunk files are sparse files of a realistic apparent size (1-3 MiB: what stat
// reports, no data blocks), so the walk and the stats cost what they cost on a real job, without TiBs of disk.
//   dotnet run make-job.cs -- JOB_DIR [IMAGE_GIB=2048] [REVISIONS=100] [USED=0.5] [CHANGED=0.01]
using System.Globalization;
using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.Revisions;

var dir = args[0];
var gib = args.Length > 1 ? long.Parse(args[1], CultureInfo.InvariantCulture) : 2048;
var revisions = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 100;
var used = args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : 0.5;
var changed = args.Length > 4 ? double.Parse(args[4], CultureInfo.InvariantCulture) : 0.01;
var size = gib << 30;
var blocks = (int)(size / Blocks.Size);
var random = new Random(42);
Directory.CreateDirectory(Path.Combine(dir, "chunks"));
File.WriteAllText(Path.Combine(dir, "config"), "source:\n  type: file\n  filename: /dev/null\nschedule:\n  daily: {interval: 1d, keep: 100}\n");
var map = new ChunkId[blocks];
var usedBlocks = Enumerable.Range(0, blocks).Where(_ => random.NextDouble() < used).ToArray();
long files = 0;
ChunkId NewChunk()
{
    Span<byte> id = stackalloc byte[16];
    random.NextBytes(id);
    var chunk = ChunkId.Read(id);
    var path = Path.Combine(dir, "chunks", chunk.ToString()[..2], chunk.ToString());
    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
    using (var f = File.Create(path)) f.SetLength(1 << 20 | random.Next(2 << 20));
    files++;
    return chunk;
}
var start = DateTimeOffset.UtcNow.AddDays(-revisions);
string parent = "";
for (var r = 0; r < revisions; r++)
{
    foreach (var b in usedBlocks)
        if (r == 0 || random.NextDouble() < changed) map[b] = NewChunk();
    var id = RevisionId.New();
    ChunkMapWriter.Write(Path.Combine(dir, id), new ChunkMap(size, Blocks.Size, (ChunkId[])map.Clone()));
    File.WriteAllText(Path.Combine(dir, id + ".rev"), $"""
        uuid: {id}
        timestamp: {start.AddDays(r):yyyy-MM-ddTHH:mm:ss.ffffff+00:00}
        parent: '{parent}'
        stats:
          bytes_written: 0
          duration: 1.0
          image_size: {size}
        trust: trusted
        tags:
        - 'daily'
        orig_tags:
        - 'daily'
        server: ''
        backend_type: chunked-xxh128

        """);
    parent = id;
}
Console.WriteLine($"{revisions} revisions of {gib} GiB ({blocks} blocks, {usedBlocks.Length} used), {files} chunk files in {dir}");
