using System.Globalization;
using System.IO.Enumeration;
using System.IO.Hashing;
using System.Text;
using Backy.Storage.IO;
using Backy.Storage.Jobs;
using Backy.Storage.Legacy;
using Backy.Storage.Revisions;

namespace Backy.Storage.Space;

/// <summary>
/// <see cref="JobSpace"/> kept in <c>chunks/.space</c> between <c>status</c> runs (each a short-lived worker), valid
/// while its two keys still match:
/// <list type="bullet">
/// <item>the chunk key: every directory under <c>chunks/</c> with its mtime (a stat each: 256 for our store). Every change to a chunk file (a backup's
/// rename, purge's and verify's unlink, a forced write's replacing rename) changes the mtime of the directory that holds
/// it, so equal mtimes mean equal files and sizes; <c>chunks/</c> itself is left out (this file lives there);</item>
/// <item>the map key: every revision (id, backend_type) and damaged revision with the size and mtime of its chunk map
/// (or old data file): a backup, forget, expire or upgrade changes it.</item>
/// </list>
/// A key with an mtime younger than <see cref="Settle"/> is not stored: a second change within the same timestamp tick
/// would leave the same mtime behind a stale entry (the daemon's view cache has the same rule). The file is a cache:
/// written without fsync, ignored when unreadable, torn or of another version, never written when the directory is
/// read-only to us (another uid's status).
/// </summary>
internal static class SpaceCache
{
    public const string FileName = Jobs.JobLayout.SpaceCacheFileName;
    static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);
    const string Magic = "backy-space 1";

    public sealed record Keys(ulong Chunks, ulong Maps, DateTime Newest);

    public static Keys KeysOf(JobDirectory job, RevisionScan scan)
    {
        var newest = DateTime.MinValue;
        var chunks = new XxHash64();
        // The original's store v1 nests chunks/xx/yy/; looking into chunks/xx/ for such directories means a readdir of
        // every chunk directory, so only a job with revisions in the original's chunked format pays it. The flag is
        // part of the key: a total cached with it is never taken for one without.
        var nested = scan.Revisions.Any(r => r.BackendType == LegacyFormat.Chunked);
        if (nested) Add(chunks, "nested\n");
        if (Directory.Exists(job.Chunks.Directory))
        {
            var dirs = new FileSystemEnumerable<(string Name, DateTime MTime)>(job.Chunks.Directory,
                (ref FileSystemEntry e) => (Path.GetRelativePath(e.RootDirectory.ToString(), e.ToFullPath()), e.LastWriteTimeUtc.UtcDateTime),
                new EnumerationOptions { RecurseSubdirectories = nested, MaxRecursionDepth = 1, IgnoreInaccessible = true, AttributesToSkip = 0 })
            {
                ShouldIncludePredicate = (ref FileSystemEntry e) => e.IsDirectory,
            }.ToList();
            dirs.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            foreach (var (name, mtime) in dirs)
            {
                Add(chunks, $"{name} {mtime.Ticks}\n");
                if (mtime > newest) newest = mtime;
            }
        }
        var maps = new XxHash64();
        void Stat(string path)
        {
            var info = new FileInfo(path);
            if (!info.Exists) { Add(maps, "-\n"); return; }
            Add(maps, $"{info.Length} {info.LastWriteTimeUtc.Ticks}\n");
            if (info.LastWriteTimeUtc > newest) newest = info.LastWriteTimeUtc;
        }
        foreach (var r in scan.Revisions)
        {
            Add(maps, $"r {r.Id} {r.BackendType}\n");
            Stat(job.ChunkMapPath(r.Id));
            Stat(job.ChunkMapPath(r.Id) + LegacyFormat.ParkedSuffix);
        }
        foreach (var d in scan.Damaged)
        {
            Add(maps, $"d {d.Id}\n");
            if (d.Id.Length > 0) Stat(job.ChunkMapPath(d.Id));
        }
        return new Keys(chunks.GetCurrentHashAsUInt64(), maps.GetCurrentHashAsUInt64(), newest);
    }

    static void Add(XxHash64 hash, string text) => hash.Append(Encoding.UTF8.GetBytes(text));

    /// <summary>The stored report when both keys match, else null.</summary>
    public static JobSpace? TryRead(JobDirectory job, Keys keys) => TryParse(job, out var k, out var space) && k.Chunks == keys.Chunks && k.Maps == keys.Maps ? space : null;

    /// <summary>The stored chunk-file total when the chunk key matches, else null.</summary>
    public static long? TryReadStored(JobDirectory job, ulong chunkKey) =>
        TryParse(job, out var k, out var space) && k.Chunks == chunkKey ? space!.StoredBytes : null;

    public static void TryWrite(JobDirectory job, Keys keys, JobSpace space, DateTimeOffset now)
    {
        if (now.UtcDateTime - keys.Newest < Settle || !Directory.Exists(job.Chunks.Directory)) return;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{Magic}\nchunks {keys.Chunks:x16}\nmaps {keys.Maps:x16}\n");
        text.Append(CultureInfo.InvariantCulture, $"stored {space.StoredBytes}\nimages {space.ImageBytes}\n");
        foreach (var (id, bytes) in space.ExclusiveBytes)
            text.Append(CultureInfo.InvariantCulture, $"r {id} {(bytes is { } b ? b.ToString(CultureInfo.InvariantCulture) : "-")}\n");
        var body = text.ToString();
        var content = $"{body}end {XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(body)):x16}\n";
        var path = Path.Combine(job.Chunks.Directory, FileName);
        var temp = DurableFile.TempPathFor(path);
        try
        {
            File.WriteAllText(temp, content);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DurableFile.TryDelete(temp);
        }
    }

    static bool TryParse(JobDirectory job, out Keys keys, out JobSpace? space)
    {
        keys = new Keys(0, 0, default);
        space = null;
        string text;
        try { text = File.ReadAllText(Path.Combine(job.Chunks.Directory, FileName)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        var end = text.LastIndexOf("end ", StringComparison.Ordinal);
        if (end < 0 || !text.EndsWith('\n')) return false;
        var body = text[..end];
        if (text[(end + 4)..^1] != XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(body)).ToString("x16", CultureInfo.InvariantCulture))
            return false;
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length < 5 || lines[0] != Magic) return false;
        try
        {
            ulong Hex(string line, string key) => line.StartsWith(key + " ", StringComparison.Ordinal)
                ? ulong.Parse(line.AsSpan(key.Length + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture) : throw new FormatException(key);
            long Number(string line, string key) => line.StartsWith(key + " ", StringComparison.Ordinal)
                ? long.Parse(line.AsSpan(key.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture) : throw new FormatException(key);
            keys = new Keys(Hex(lines[1], "chunks"), Hex(lines[2], "maps"), default);
            var exclusive = new Dictionary<string, long?>(StringComparer.Ordinal);
            foreach (var line in lines[5..])
            {
                var parts = line.Split(' ');
                if (parts.Length != 3 || parts[0] != "r") return false;
                exclusive[parts[1]] = parts[2] == "-" ? null : long.Parse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture);
            }
            space = new JobSpace(Number(lines[3], "stored"), Number(lines[4], "images"), exclusive);
            return true;
        }
        catch (FormatException) { return false; }
        catch (OverflowException) { return false; }
    }
}
