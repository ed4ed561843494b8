using Backy.Storage.Chunks;
using Backy.Storage.Revisions;
using Microsoft.Extensions.Logging;

namespace Backy.Storage.Copies;

/// <summary>
/// <c>verify --from</c>: reads every chunk of the given revisions back from the copy and checks it (present,
/// authenticates, decodes, hashes to its id, has the length the chunk map expects). Changes nothing: a damaged
/// copy is the operator's to repair (the next copy re-uploads what its record does not vouch for).
/// </summary>
public sealed class CopyVerifier(CopyRepository copy, ILogger logger, int parallelism = CopyEngine.DefaultParallelism)
{
    /// <summary>Returns one problem line per damaged revision; empty when all are whole.</summary>
    public async Task<IReadOnlyList<string>> VerifyAsync(IReadOnlyList<Revision> revisions, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var good = new HashSet<ChunkId>();
        foreach (var revision in revisions)
        {
            var bad = new List<string>();
            ChunkMaps.ChunkMap? map = null;
            try { map = await copy.ReadChunkMapAsync(revision.Id, cancellationToken).ConfigureAwait(false); }
            catch (BackyException e) { bad.Add(e.Message); }
            if (map is not null)
            {
                var lengths = new Dictionary<ChunkId, int>();
                for (long b = 0; b < map.BlockCount; b++)
                    if (!map.IsHole(b)) lengths[map.Entries[b]] = map.LengthOf(b);
                var todo = lengths.Keys.Where(id => !good.Contains(id)).ToList();
                var buffers = new System.Collections.Concurrent.ConcurrentBag<(byte[], byte[], byte[])>();
                await Parallel.ForEachAsync(todo, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (id, ct) =>
                {
                    if (!buffers.TryTake(out var b))
                        b = (new byte[Blocks.Size], new byte[CopyRepository.ChunkObjectCapacity], new byte[ChunkStore.ScratchSize]);
                    try
                    {
                        var n = await copy.ReadChunkAsync(id, b.Item1, b.Item2, b.Item3, ct).ConfigureAwait(false);
                        if (n != lengths[id]) throw new BackyException($"chunk {id} holds {n} bytes, the chunk map expects {lengths[id]}");
                        lock (good) good.Add(id);
                    }
                    catch (BackyException e) { lock (bad) bad.Add(e.Message); }
                    finally { buffers.Add(b); }
                }).ConfigureAwait(false);
            }
            if (bad.Count == 0)
                logger.CopyRevisionVerified(revision.Id, copy.Url, map!.ReferencedChunks().Count());
            else
            {
                bad.Sort(StringComparer.Ordinal);
                var line = $"revision {revision.Id}: {bad.Count} problem(s): {string.Join("; ", bad.Take(5))}{(bad.Count > 5 ? "; ..." : "")}";
                logger.CopyRevisionDamaged(revision.Id, copy.Url, line);
                problems.Add(line);
            }
        }
        return problems;
    }
}
