using System.Collections.Concurrent;

namespace Backy.Daemon.Views;

/// <summary>
/// The daemon's one cache of <see cref="JobView"/>s, keyed by job directory: each directory is read again as
/// soon as it changes, and otherwise not at all. One instance per daemon (a singleton of the host, handed to
/// the job loops and, through <see cref="Scheduling.IJobScheduler.Jobs"/>, to the API): anything that wants
/// the state of every job (status, <c>check</c>, metrics) enumerates the job snapshots, each of which carries
/// its view, and costs a stat of two directories per job while nothing changed.
/// <para>
/// Parsing every <c>.rev</c> file of every job on each status call made a status over 200 jobs cost ~40 ms of
/// CPU, so a few monitoring clients polling at once queued behind each other (RELIABILITY.md, API load).
/// Every change that matters renames or removes a file in the job directory (revisions are written by
/// rename) or in its quarantine directory, so both directories' mtimes are the key. A directory modified
/// within the last <see cref="Settle"/> is not cached: a second change in the same timestamp tick would
/// otherwise leave the same mtime behind a stale entry (git's "racy" index problem, solved the same way).
/// </para>
/// </summary>
public sealed class JobViewCache(TimeProvider time)
{
    internal static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>The job directory's view, read again only when the directory changed.</summary>
    /// <exception cref="Storage.BackyException">A revision file cannot be read.</exception>
    /// <exception cref="IOException">The directory cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory cannot be read.</exception>
    public JobView Get(string directory) => Get(directory, () => JobView.Read(directory));

    /// <summary><see cref="Get(string)"/> with the read supplied (tests count the reads).</summary>
    internal JobView Get(string directory, Func<JobView> read)
    {
        var key = Stamp(directory);
        if (_entries.TryGetValue(directory, out var cached) && cached.Key == key)
            return cached.View;
        var view = read();
        var now = time.GetUtcNow().UtcDateTime;
        if (key.Job != default && now - key.Job > Settle && now - key.Quarantine > Settle)
            _entries[directory] = new Entry(key, view);
        else
            _entries.TryRemove(directory, out _);
        return view;
    }

    /// <summary>Forgets a directory (a job removed by a reload), so that the cache holds configured jobs only.</summary>
    public void Forget(string directory) => _entries.TryRemove(directory, out _);

    private static (DateTime Job, DateTime Quarantine) Stamp(string directory) =>
        (MTime(directory), MTime(Path.Join(directory, Storage.Jobs.JobLayout.QuarantineDirectoryName)));

    // A missing directory reads as 1601-01-01 (FileSystemInfo's "none"), which is also a stable key.
    private static DateTime MTime(string path) => Directory.Exists(path) ? Directory.GetLastWriteTimeUtc(path) : default;

    private sealed record Entry((DateTime Job, DateTime Quarantine) Key, JobView View);
}
