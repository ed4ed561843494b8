using System.Runtime.InteropServices;
using Backy.Storage.ChunkMaps;
using Backy.Storage.IO;
using Backy.Storage.Jobs;

namespace Backy.Storage.Locks;

/// <summary>
/// Pins keep a revision's chunks while something outside the lock protocol reads it for a long time (the NBD
/// server): <c>pins/&lt;revision&gt;.&lt;pid&gt;.&lt;random&gt;</c> is a hard link to the revision's chunk map, and its
/// holder keeps a shared flock on it. Purge marks the chunks of every pin that is locked, so forget, expire or a
/// failed verify may remove the revision (its .rev and chunk map name) while it is served, and its chunks stay until
/// the pin goes. A pin nobody holds (its process died: the kernel dropped the flock) is stale and purge deletes it.
/// </summary>
/// <remarks>
/// Rules: a pin is taken under the shared purge lock (so no purge runs between reading the chunk map and
/// pinning it; purge, holding the exclusive lock, sees every pin complete and locked or stale), and released
/// at any time. The hard link makes the pin atomic and free: it is the chunk map, not a copy, and it survives the
/// removal of the revision's own name. flock is per inode: several pins of one revision share the chunk map's
/// inode, so a pin counts as stale only when no holder of any of them is alive, which is exactly when all are.
/// A revision still in the original's chunked format is pinned the same way, by a hard link to its JSON chunk map
/// named with <see cref="LegacyChunkedSuffix"/>: the legacy purge and `upgrade` keep its old chunks. A cowfile
/// revision needs no pin: its data is one file, and the reader's open handle keeps it whoever unlinks it.
/// </remarks>
public sealed class RevisionPin : IDisposable
{
    /// <summary>The name suffix of a pin on a legacy chunked revision (a JSON chunk map, not ours).</summary>
    public const string LegacyChunkedSuffix = ".chunked";

    private int _fd;

    private RevisionPin(string path, int fd)
    {
        Path = path;
        _fd = fd;
    }

    /// <summary>The pin file (a hard link to the chunk map).</summary>
    public string Path { get; }

    /// <summary>
    /// Pins the chunk map at <paramref name="chunkMapPath"/> (ours, or with <paramref name="legacyChunked"/> the
    /// original's JSON one). The caller holds the shared purge lock.
    /// </summary>
    public static RevisionPin Take(FileLock sharedPurgeLock, string jobDirectory, string revisionId, string chunkMapPath, bool legacyChunked = false)
    {
        ArgumentNullException.ThrowIfNull(sharedPurgeLock);
        var directory = System.IO.Path.Combine(jobDirectory, JobLayout.PinsDirectoryName);
        Directory.CreateDirectory(directory);
        var path = System.IO.Path.Combine(directory, $"{revisionId}.{Environment.ProcessId}.{Guid.NewGuid().ToString("N")[..8]}{(legacyChunked ? LegacyChunkedSuffix : "")}");
        if (Posix.Link(chunkMapPath, path) != 0)
            throw new BackyException($"cannot pin revision {revisionId}: link '{chunkMapPath}' to '{path}' failed - {Posix.ErrorText(Marshal.GetLastPInvokeError())}");
        var fd = Posix.Open(path, Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
        if (fd < 0 || Posix.Flock(fd, Posix.LOCK_SH | Posix.LOCK_NB) != 0)
        {
            var reason = Posix.ErrorText(Marshal.GetLastPInvokeError());
            if (fd >= 0) Posix.Close(fd);
            DurableFile.TryDelete(path);
            throw new BackyException($"cannot pin revision {revisionId} at '{path}' - {reason}");
        }
        return new RevisionPin(path, fd);
    }

    /// <summary>
    /// The chunk maps of live pins on revisions in our format; deletes stale pins on the way. Only under the
    /// exclusive purge lock (no pin is being taken then). An unreadable live pin throws: its chunks are unknown, so
    /// nothing may be swept.
    /// </summary>
    public static IReadOnlyList<ChunkMap> LiveUnderExclusivePurgeLock(string jobDirectory) =>
        LivePathsUnderExclusivePurgeLock(jobDirectory)
            .Where(p => !p.EndsWith(LegacyChunkedSuffix, StringComparison.Ordinal))
            .Select(ChunkMapReader.Read).ToList();

    /// <summary>The JSON chunk maps of live pins on legacy chunked revisions (read them with the legacy reader).</summary>
    public static IReadOnlyList<string> LiveLegacyChunkedUnderExclusivePurgeLock(string jobDirectory) =>
        LivePathsUnderExclusivePurgeLock(jobDirectory).Where(p => p.EndsWith(LegacyChunkedSuffix, StringComparison.Ordinal)).ToList();

    private static List<string> LivePathsUnderExclusivePurgeLock(string jobDirectory)
    {
        var directory = System.IO.Path.Combine(jobDirectory, JobLayout.PinsDirectoryName);
        var live = new List<string>();
        if (!Directory.Exists(directory)) return live;
        foreach (var file in Directory.EnumerateFiles(directory).ToList())
        {
            var fd = Posix.Open(file, Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
            if (fd < 0) continue; // released meanwhile
            try
            {
                if (Posix.Flock(fd, Posix.LOCK_EX | Posix.LOCK_NB) == 0)
                {
                    // Nobody holds it: the server that took it is gone.
                    DurableFile.TryDelete(file);
                    continue;
                }
            }
            finally { Posix.Close(fd); }
            live.Add(file);
        }
        return live;
    }

    /// <summary>Releases the pin: its chunks are purge's to judge again.</summary>
    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0) return;
        DurableFile.TryDelete(Path);
        Posix.Close(fd);
    }
}
