using System.Globalization;
using Backy.Storage.Chunks;
using Backy.Storage.IO;
using Backy.Storage.Jobs;
using Backy.Storage.Revisions;
using YamlDotNet.RepresentationModel;

namespace Backy.Storage.Quarantine;

/// <summary><c>quarantine/&lt;report-id&gt;.report</c> (YAML) and <c>quarantine/chunks/&lt;hash&gt;</c> (raw block data).</summary>
public sealed class QuarantineStore
{
    public const string ReportExtension = ".report";

    /// <summary>Both versions of each quarantined block, by hash: <c>quarantine/chunks/&lt;hash&gt;</c> (plain bytes,
    /// not the job's chunk format; the original's layout).</summary>
    private const string ChunksDirectoryName = "chunks";

    public string Directory { get; }

    public QuarantineStore(string directory) => Directory = directory;

    public int Count => System.IO.Directory.Exists(Directory)
        ? System.IO.Directory.EnumerateFiles(Directory, "*" + ReportExtension).Count()
        : 0;

    public IEnumerable<string> ReportPaths => System.IO.Directory.Exists(Directory)
        ? System.IO.Directory.EnumerateFiles(Directory, "*" + ReportExtension).Order(StringComparer.Ordinal)
        : [];

    /// <summary>Stores both versions of the block and the report describing them; returns the report.</summary>
    public QuarantineReport Add(string revision, long block, long offset, ReadOnlySpan<byte> source, ReadOnlySpan<byte> stored, DateTimeOffset now)
    {
        var chunks = Path.Combine(Directory, ChunksDirectoryName);
        System.IO.Directory.CreateDirectory(chunks);
        var sourceHash = ChunkId.Of(source).ToString();
        var storedHash = ChunkId.Of(stored).ToString();
        DurableFile.WriteAllBytes(Path.Combine(chunks, sourceHash), source);
        DurableFile.WriteAllBytes(Path.Combine(chunks, storedHash), stored);
        var report = new QuarantineReport(RevisionId.New(), revision, block, offset, source.Length, sourceHash, storedHash, now);
        var yaml = new YamlMappingNode
        {
            { "uuid", report.Id },
            { "revision", report.Revision },
            { "block", YamlTree.Plain(block.ToString(CultureInfo.InvariantCulture)) },
            { "offset", YamlTree.Plain(offset.ToString(CultureInfo.InvariantCulture)) },
            { "length", YamlTree.Plain(source.Length.ToString(CultureInfo.InvariantCulture)) },
            { "source_hash", YamlTree.Quoted(sourceHash) },
            { "source_chunk", $"{ChunksDirectoryName}/{sourceHash}" },
            { "target_hash", YamlTree.Quoted(storedHash) },
            { "target_chunk", $"{ChunksDirectoryName}/{storedHash}" },
            { "timestamp", YamlTree.Plain(JobLayout.FormatTimestamp(now)) },
        };
        DurableFile.WriteAllText(Path.Combine(Directory, report.Id + ReportExtension), YamlTree.Serialize(yaml));
        return report;
    }
}
