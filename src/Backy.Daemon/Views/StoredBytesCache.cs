using System.Collections.Concurrent;
using Backy.Storage.Jobs;
using Backy.Storage.Space;

namespace Backy.Daemon.Views;

/// <summary>
/// Bytes of each job's chunk files on disk, for the <c>client jobs</c> Stored column (the API) and
/// <c>backy_job_stored_bytes</c> (metrics): one instance per daemon, one computation, Storage's
/// (<see cref="JobSpace.StoredBytesOf"/>, which also reads what <c>status</c> cached in <c>chunks/.space</c>).
/// Asking Storage on every call would cost 256 stats per job (its cache key) or a walk, so a figure is kept here until
/// the job directory changes (every backup, forget and expire renames or removes a file there) or <see cref="MaxAge"/>
/// passes (a purge removes chunks without touching the job directory itself).
/// </summary>
public sealed class StoredBytesCache(TimeProvider time)
{
    internal static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(15);

    readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>The job directory's chunk-file bytes; null when the directory does not exist (yet) or cannot be read.</summary>
    public long? Of(string jobDirectory)
    {
        if (!Directory.Exists(jobDirectory)) return null;
        var stamp = Directory.GetLastWriteTimeUtc(jobDirectory);
        var now = time.GetUtcNow();
        if (_entries.TryGetValue(jobDirectory, out var e) && e.Stamp == stamp && now - e.Taken < MaxAge)
            return e.Bytes;
        long? bytes;
        try { bytes = JobSpace.StoredBytesOf(new JobDirectory(jobDirectory)); }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException) { bytes = null; }
        _entries[jobDirectory] = new Entry(stamp, now, bytes);
        return bytes;
    }

    sealed record Entry(DateTime Stamp, DateTimeOffset Taken, long? Bytes);
}
