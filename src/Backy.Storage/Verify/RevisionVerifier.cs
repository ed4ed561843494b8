using System.Collections.Concurrent;
using Backy.Storage.Backup;
using Backy.Storage.Chunks;
using Backy.Storage.Images;
using Backy.Storage.IO;
using Backy.Storage.Jobs;
using Backy.Storage.Locks;
using Backy.Storage.Progress;
using Backy.Storage.Revisions;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Verify;

/// <summary>
/// Reads back every chunk a revision uses (through <see cref="IRevisionImage"/>, whatever its format), decoding
/// and re-hashing it. A chunk is read once per run however many of the revisions use it, and never taken as
/// sound because an earlier run found it so: data rots between runs, and a verify vouches for what it read.
/// A bad chunk file is deleted, every revision being verified that uses it is removed, and every other
/// revision that uses it is distrusted (so the next backup runs in forced-write mode and writes it again);
/// a clean revision becomes <see cref="Trust.Verified"/>. Writes through an open <see cref="RevisionStore"/>
/// (which holds the job's backup lock); takes the shared purge lock so that no purge runs meanwhile.
/// </summary>
public sealed partial class RevisionVerifier
{
    private readonly RevisionStore _store;
    private readonly JobDirectory _job;
    private readonly ILogger _logger;
    private readonly BackupSettings _settings;

    public RevisionVerifier(RevisionStore store, ILogger logger, BackupSettings? settings = null)
    {
        _store = store;
        _job = store.Job;
        _logger = logger;
        _settings = settings ?? BackupSettings.Default;
    }

    /// <summary>Where the verify reports how far it is: blocks read of the blocks this run will read (one per
    /// distinct chunk over all the revisions, counted before the first read), bytes of blocks read.</summary>
    public IProgress<OperationProgress>? Progress { get; init; }

    public async Task<VerifyResult> VerifyAsync(IReadOnlyList<Revision> revisions, CancellationToken cancellationToken)
    {
        using var purgeLock = await JobLocks.AcquirePurgeSharedAsync(_job.Path, cancellationToken).ConfigureAwait(false);
        // Every chunk read in this run: null when sound, else what is wrong with it.
        var read = new ConcurrentDictionary<StoredChunk, string?>();
        var verified = new List<string>();
        var removed = new List<string>();
        var kept = new List<string>();
        var problems = new List<string>();
        var progress = new ProgressCounter("verify", Progress);
        if (progress.Enabled) progress.Total = CountBlocksToRead(revisions);
        foreach (var revision in revisions)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Problem? problem;
            try { problem = Check(revision, read, progress, cancellationToken); }
            catch (UnknownFormatException e)
            {
                // Metadata we cannot read is no evidence against the data: keep it, say so.
                kept.Add(revision.Id);
                problems.Add(e.Message);
                _logger.VerifyKept(revision.Id, e.Message);
                continue;
            }
            if (problem is null)
            {
                revision.Trust = Trust.Verified;
                _store.Write(revision);
                verified.Add(revision.Id);
                _logger.VerifyPassed(revision.Id);
            }
            else if (problem.Unreadable)
            {
                // The file system would not give the data (EIO, EROFS, EACCES: the fault sweep): no evidence that
                // the data are bad, and the revision may read again. Kept, not verified; verify exits 1.
                kept.Add(revision.Id);
                problems.Add($"revision {revision.Id}: {problem.Message}");
                _logger.VerifyKept(revision.Id, problem.Message);
            }
            else
            {
                _store.Remove(revision.Id);
                removed.Add(revision.Id);
                problems.Add($"revision {revision.Id}: {problem.Message}");
                _logger.VerifyRemoved(revision.Id);
            }
        }
        var bad = read.Where(e => e.Value is not null).Select(e => e.Key).ToHashSet();
        var distrusted = bad.Count == 0 ? [] : DistrustUsersOf(bad);
        return new VerifyResult(verified, removed, problems, distrusted, kept);
    }

    /// <summary>What is wrong with a revision: bad data (proven: a chunk missing, malformed or not hashing to its
    /// name; a malformed chunk map), or data the file system would not give (<paramref name="Unreadable"/>).</summary>
    private sealed record Problem(string Message, bool Unreadable);

    private static bool IsReadError(Exception e) =>
        e is IOException or UnauthorizedAccessException || e.InnerException is IOException or UnauthorizedAccessException;

    /// <summary>Null when every block of the revision reads back sound, else the first problem (bad data first).</summary>
    private Problem? Check(Revision revision, ConcurrentDictionary<StoredChunk, string?> read, ProgressCounter progress, CancellationToken cancellationToken)
    {
        try
        {
            // Deep: a chunk stored in parts must also match every part's checksum (an NBD read of a part checks it).
            using var image = RevisionImages.Open(_job, revision, deep: true);
            // One block per distinct chunk this run has not read yet; every block of a format without chunks.
            var blocks = new List<long>();
            var seen = new HashSet<StoredChunk>();
            var readEarlier = 0;
            Problem? knownBad = null;
            for (long block = 0; block < image.BlockCount; block++)
            {
                if (image.IsHole(block)) continue;
                if (image.ChunkOf(block) is not { } chunk) blocks.Add(block);
                else if (!seen.Add(chunk)) continue;
                else if (read.TryGetValue(chunk, out var earlier))
                {
                    readEarlier++;
                    knownBad ??= earlier is null ? null : new Problem(earlier, Unreadable: false);
                }
                else blocks.Add(block);
            }
            _logger.VerifyStarted(revision.Id, blocks.Count, readEarlier);
            var found = ReadBlocks(image, blocks, read, progress, cancellationToken);
            return found is { Unreadable: false } ? found : knownBad ?? found;
        }
        catch (BackyException e) when (e is not ChunkCorruptedException and not UnknownFormatException)
        {
            return new Problem(e.Message, IsReadError(e)); // malformed (or unreadable) chunk map or old data file
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new Problem(IoErrors.Describe(e), Unreadable: true);
        }
    }

    /// <summary>The blocks <see cref="Check"/> will read over all <paramref name="revisions"/>: a first pass over
    /// their chunk maps (no chunk is read), so that the progress has its total before the first read. A revision
    /// whose map cannot be read counts nothing (Check reports it).</summary>
    private long CountBlocksToRead(IReadOnlyList<Revision> revisions)
    {
        var seen = new HashSet<StoredChunk>();
        long count = 0;
        foreach (var revision in revisions)
        {
            try
            {
                using var image = RevisionImages.Open(_job, revision);
                for (long block = 0; block < image.BlockCount; block++)
                {
                    if (image.IsHole(block)) continue;
                    if (image.ChunkOf(block) is not { } chunk || seen.Add(chunk)) count++;
                }
            }
            catch (Exception e) when (e is BackyException or IOException) { }
        }
        return count;
    }

    /// <summary>Reads the blocks in parallel, recording each chunk's verdict; returns the first problem (bad data first).</summary>
    private Problem? ReadBlocks(IRevisionImage image, List<long> blocks, ConcurrentDictionary<StoredChunk, string?> read, ProgressCounter progress, CancellationToken cancellationToken)
    {
        var problems = new ConcurrentDictionary<long, Problem>();
        var options = new ParallelOptions { MaxDegreeOfParallelism = _settings.Workers, CancellationToken = cancellationToken };
        Parallel.ForEach(blocks, options,
            () => GC.AllocateUninitializedArray<byte>(Blocks.Size),
            (block, _, buffer) =>
            {
                var chunk = image.ChunkOf(block);
                try
                {
                    image.ReadBlock(block, buffer);
                    if (chunk is { } c) read.TryAdd(c, null);
                }
                catch (ChunkCorruptedException e)
                {
                    if (chunk is { } c) read[c] = e.Message;
                    problems[block] = new Problem(e.Message, Unreadable: false);
                    // Deleted, not repaired: the next backup (forced-write, see DistrustUsersOf) writes it again.
                    if (File.Exists(e.Path)) File.Delete(e.Path);
                    _logger.VerifyBadChunk(e.Message);
                }
                catch (BackyException e)
                {
                    problems[block] = new Problem(e.Message, IsReadError(e));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Not recorded as the chunk's verdict: it may read in the next revision or run.
                    problems[block] = new Problem(IoErrors.Describe(e), Unreadable: true);
                }
                progress.Add(1, image.LengthOf(block));
                return buffer;
            },
            _ => { });
        if (problems.IsEmpty) return null;
        var first = problems.OrderBy(p => p.Key).Select(p => p.Value).ToList();
        return first.FirstOrDefault(p => !p.Unreadable) ?? first[0];
    }
}
