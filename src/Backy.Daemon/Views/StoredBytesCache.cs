using System.Collections.Concurrent;
using Backy.Storage.Jobs;
using Backy.Storage.Space;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Backy.Daemon.Views;

/// <summary>
/// Bytes of each job's chunk files on disk, for the <c>client jobs</c> Stored column (the API) and
/// <c>backy_job_stored_bytes</c> (metrics): one instance per daemon, one computation, Storage's
/// (<see cref="JobSpace.StoredBytesOf"/>, which also reads what <c>status</c> cached in <c>chunks/.space</c>).
/// <para>
/// A caller never waits for it. The figure costs a walk of the job's chunk directories (a stat per chunk file: seconds
/// for a 2 TiB job), which inside a scrape or a status call would make the first scrape after a start take as long
/// as walking every job (5-7 s for 1000 small jobs on the loaded test machine; Prometheus gives up after 10 s). So
/// <see cref="Of"/> answers with what is known (null until the first walk finished) and queues a refresh, which one
/// background thread does, one job at a time, when the job directory changed (every backup, forget and expire renames
/// or removes a file there) or the figure is older than <see cref="MaxAge"/> (a purge removes chunks without touching
/// the job directory itself).
/// </para>
/// </summary>
public sealed partial class StoredBytesCache : IDisposable
{
    internal static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(15);

    readonly TimeProvider _time;
    readonly ILogger _logger;
    readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, bool> _queued = new(StringComparer.Ordinal);
    readonly BlockingCollection<string> _queue = [];
    readonly Thread _refresher;

    public StoredBytesCache(TimeProvider time, ILogger<StoredBytesCache>? logger = null)
    {
        _time = time;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _refresher = new Thread(Refresh) { IsBackground = true, Name = "stored-bytes" };
        _refresher.Start();
    }

    /// <summary>The job directory's chunk-file bytes as last measured; null while not measured yet, when the directory
    /// does not exist (yet) or cannot be read. Costs two stats; queues a refresh when the figure is stale.</summary>
    public long? Of(string jobDirectory)
    {
        if (!Directory.Exists(jobDirectory)) return null;
        var stamp = Directory.GetLastWriteTimeUtc(jobDirectory);
        _entries.TryGetValue(jobDirectory, out var entry);
        if ((entry is null || entry.Stamp != stamp || _time.GetUtcNow() - entry.Taken >= MaxAge)
            && _queued.TryAdd(jobDirectory, true) && !_queue.IsAddingCompleted)
        {
            try { _queue.Add(jobDirectory); }
            catch (InvalidOperationException) { } // disposed meanwhile
        }
        return entry?.Bytes;
    }

    void Refresh()
    {
        try
        {
            foreach (var directory in _queue.GetConsumingEnumerable())
            {
                _queued.TryRemove(directory, out _);
                // The stamp before the walk: a change during it leaves an older stamp, so the next call walks again.
                var stamp = Directory.Exists(directory) ? Directory.GetLastWriteTimeUtc(directory) : default;
                long? bytes;
                try { bytes = JobSpace.StoredBytesOf(new JobDirectory(directory)); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or Storage.BackyException)
                {
                    LogUnreadable(_logger, directory, e.Message);
                    bytes = null;
                }
                _entries[directory] = new Entry(stamp, _time.GetUtcNow(), bytes);
            }
        }
        catch (ObjectDisposedException) { }
    }

    public void Dispose() => _queue.CompleteAdding();

    [LoggerMessage(EventId = 5042, Level = LogLevel.Warning, Message = "stored bytes of {Directory} unknown: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string directory, string reason);

    sealed record Entry(DateTime Stamp, DateTimeOffset Taken, long? Bytes);
}
