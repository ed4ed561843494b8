using System.Collections.Concurrent;
using Backy.Storage.Jobs;

namespace Backy.Daemon.Metrics;

/// <summary>
/// Bytes of a job's chunk files on disk (their sizes; zero blocks are not stored as chunks at all). Summing every chunk file's size on each scrape would cost a directory walk per job, so a
/// sum is kept until the job directory changes (every backup, forget and expire renames or removes a file
/// there) or <see cref="MaxAge"/> passes (a purge removes chunks without touching the job directory itself).
/// </summary>
internal sealed class StoredBytes(TimeProvider time)
{
    internal static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(15);

    readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public double? Of(string jobDirectory)
    {
        if (!Directory.Exists(jobDirectory)) return null;
        var stamp = Directory.GetLastWriteTimeUtc(jobDirectory);
        var now = time.GetUtcNow();
        if (_entries.TryGetValue(jobDirectory, out var e) && e.Stamp == stamp && now - e.Taken < MaxAge)
            return e.Bytes;
        var bytes = Sum(new JobDirectory(jobDirectory));
        _entries[jobDirectory] = new Entry(stamp, now, bytes);
        return bytes;
    }

    static double Sum(JobDirectory job)
    {
        double total = 0;
        try
        {
            foreach (var chunk in job.Chunks.EnumerateChunks())
            {
                try { total += new FileInfo(chunk.Path).Length; }
                catch (FileNotFoundException) { } // purged meanwhile
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return total;
    }

    sealed record Entry(DateTime Stamp, DateTimeOffset Taken, double Bytes);
}
