using System.Collections.Concurrent;
using Backy.Storage.Backup;
using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.Jobs;
using Backy.Storage.Locks;
using Backy.Storage.Revisions;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Verify;

/// <summary>What a verification did.</summary>
public sealed record VerifyResult(IReadOnlyList<string> Verified, IReadOnlyList<string> Removed, IReadOnlyList<string> Problems);

/// <summary>
/// Reads back every chunk a revision uses, decodes and re-hashes it. Chunks already proven by a verified
/// revision are skipped. A bad chunk file is deleted and every revision being verified that uses it is
/// removed; a clean revision becomes <see cref="Trust.Verified"/>. The caller holds the job's backup lock;
/// this takes the shared purge lock so that no purge runs meanwhile.
/// </summary>
public sealed class RevisionVerifier
{
    private readonly JobDirectory _job;
    private readonly ILogger _logger;
    private readonly BackupSettings _settings;

    public RevisionVerifier(JobDirectory job, ILogger logger, BackupSettings? settings = null)
    {
        _job = job;
        _logger = logger;
        _settings = settings ?? BackupSettings.Default;
    }

    public async Task<VerifyResult> VerifyAsync(IReadOnlyList<Revision> revisions, CancellationToken cancellationToken)
    {
        using var purgeLock = await JobLocks.AcquirePurgeSharedAsync(_job.Path, cancellationToken).ConfigureAwait(false);
        var targets = revisions.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var proven = new HashSet<ChunkId>();
        foreach (var r in _job.CompleteRevisions().Where(r => r.Trust == Trust.Verified && r.IsLocal && !targets.Contains(r.Id) && r.BackendType == Revision.OurBackendType && _job.HasChunkMap(r.Id)))
            proven.UnionWith(_job.ReadChunkMap(r).ReferencedChunks());

        var verified = new List<string>();
        var removed = new List<string>();
        var problems = new List<string>();
        var bad = new ConcurrentDictionary<ChunkId, string>();
        foreach (var revision in revisions)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string? problem = null;
            if (Legacy.LegacyFormat.IsLegacy(revision.BackendType))
                problem = Legacy.LegacyVerifier.Check(_job.Path, revision, cancellationToken); // not upgraded yet
            else try
            {
                var chunks = _job.ReadChunkMap(revision).ReferencedChunks().Where(c => !proven.Contains(c)).ToList();
                _logger.VerifyStarted(revision.Id, chunks.Count, 0);
                CheckChunks(chunks.Where(c => !bad.ContainsKey(c)), bad, cancellationToken);
                var firstBad = chunks.FirstOrDefault(bad.ContainsKey);
                if (chunks.Any(bad.ContainsKey)) problem = bad[firstBad];
                else proven.UnionWith(chunks);
            }
            catch (BackyException e) when (e is not ChunkCorruptedException)
            {
                problem = e.Message; // unreadable chunk map
            }
            if (problem is null)
            {
                revision.Trust = Trust.Verified;
                _job.WriteRevision(revision);
                verified.Add(revision.Id);
                _logger.VerifyPassed(revision.Id);
            }
            else
            {
                _job.RemoveRevision(revision.Id);
                removed.Add(revision.Id);
                problems.Add($"revision {revision.Id}: {problem}");
                _logger.VerifyRemoved(revision.Id);
            }
        }
        return new VerifyResult(verified, removed, problems);
    }

    private void CheckChunks(IEnumerable<ChunkId> chunks, ConcurrentDictionary<ChunkId, string> bad, CancellationToken cancellationToken)
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = _settings.Workers, CancellationToken = cancellationToken };
        Parallel.ForEach(chunks, options,
            () => (Block: GC.AllocateUninitializedArray<byte>(Blocks.Size), Scratch: GC.AllocateUninitializedArray<byte>(ChunkStore.ScratchSize)),
            (id, _, buffers) =>
            {
                try { _job.Chunks.Read(id, buffers.Block, buffers.Scratch); }
                catch (ChunkCorruptedException e)
                {
                    bad[id] = e.Message;
                    _job.Chunks.Delete(id);
                    _logger.VerifyBadChunk(e.Message);
                }
                return buffers;
            },
            _ => { });
    }
}
