using System.Collections.Concurrent;

namespace Backy.Daemon.Api;

/// <summary>
/// Remembers each job directory's <see cref="JobDirectoryFacts"/> until the directory changes. Parsing every
/// <c>.rev</c> file of every job on each status call made a status over 200 jobs cost ~40 ms of CPU, so a few
/// monitoring clients polling at once queued behind each other (RELIABILITY.md, API load).
/// Every change that matters renames or removes a file in the job directory (revisions are written by
/// rename) or in its quarantine directory, so both directories' mtimes are the key. A directory modified
/// within the last <see cref="Settle"/> is not cached: a second change in the same timestamp tick would
/// otherwise leave the same mtime behind a stale entry (git's "racy" index problem, solved the same way).
/// </summary>
internal sealed class JobFactsCache(TimeProvider time)
{
    internal static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public JobDirectoryFacts Get(string directory, Func<JobDirectoryFacts> read)
    {
        var key = Stamp(directory);
        if (_entries.TryGetValue(directory, out var cached) && cached.Key == key) return cached.Facts;
        var facts = read();
        var now = time.GetUtcNow().UtcDateTime;
        if (key.Job != default && now - key.Job > Settle && now - key.Quarantine > Settle)
            _entries[directory] = new Entry(key, facts);
        else
            _entries.TryRemove(directory, out _);
        return facts;
    }

    private static (DateTime Job, DateTime Quarantine) Stamp(string directory) =>
        (MTime(directory), MTime(Path.Join(directory, "quarantine")));

    // A missing directory reads as 1601-01-01 (FileSystemInfo's "none"), which is also a stable key.
    private static DateTime MTime(string path) => Directory.Exists(path) ? Directory.GetLastWriteTimeUtc(path) : default;

    private sealed record Entry((DateTime Job, DateTime Quarantine) Key, JobDirectoryFacts Facts);
}
