using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.Images;
using Backy.Storage.Jobs;
using Backy.Storage.Revisions;

namespace Backy.Storage.Space;

/// <summary>
/// The one pass over a job's chunk maps behind <see cref="JobSpace"/>: which revision is the only user of which chunk.
/// Users are what purge marks (every revision with data here, any format, read through <see cref="RevisionImages"/>,
/// and the chunk maps of damaged revisions), so "exclusive" means exactly "freed by forgetting this revision and purging".
/// </summary>
internal static class ChunkUsage
{
    const int Shared = -1;
    const long LargeMapBlocks = 1 << 16; // 256 GiB images: maps of 1 MiB and more

    /// <param name="revisions">Revisions with data here, oldest first (the order makes the same-block shortcut hit).</param>
    /// <param name="damagedMaps">Chunk map paths of damaged revisions: users that are not shown.</param>
    /// <param name="sizes">Chunk file sizes from <see cref="ChunkFiles.Sizes"/>; a chunk without a file costs nothing.</param>
    public static JobSpace Compute(JobDirectory job, IReadOnlyList<Revision> revisions, IReadOnlyList<string> damagedMaps,
        Dictionary<StoredChunk, long> sizes, long storedBytes, CancellationToken cancellationToken)
    {
        var owner = new Dictionary<StoredChunk, int>();
        var known = true; // false once some user's chunks are unknown: then no chunk can be called exclusive
        var chunkless = new HashSet<int>(); // cowfile revisions: their data is their own file, not chunks
        long imageBytes = 0;
        // The chunk each block had in the revision before, and whether that chunk is already known to be shared:
        // consecutive revisions of a VM share most blocks at the same offset, so most of the 100 x 524,288 entries of
        // 2 TiB images cost a compare instead of a dictionary lookup.
        var last = Array.Empty<StoredChunk>();
        var lastShared = Array.Empty<bool>();

        void Use(int user, long block, StoredChunk chunk)
        {
            if (block < last.Length && last[block] == chunk)
            {
                if (lastShared[block]) return;
                owner[chunk] = Shared; // an earlier revision had it at this block
                lastShared[block] = true;
                return;
            }
            bool shared;
            if (owner.TryGetValue(chunk, out var o))
            {
                shared = o != user;
                if (shared && o != Shared) owner[chunk] = Shared;
                shared |= o == Shared;
            }
            else
            {
                owner[chunk] = user;
                shared = false;
            }
            if (block < last.Length)
            {
                last[block] = chunk;
                lastShared[block] = shared;
            }
        }

        for (var i = 0; i < revisions.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                using var image = RevisionImages.Open(job, revisions[i]);
                if (image.BlockCount > last.Length)
                {
                    Array.Resize(ref last, (int)image.BlockCount);
                    Array.Resize(ref lastShared, (int)image.BlockCount);
                }
                var hasChunks = false;
                var hasData = false;
                for (long block = 0; block < image.BlockCount; block++)
                {
                    if (image.ChunkOf(block) is { } chunk)
                    {
                        hasChunks = true;
                        Use(i, block, chunk);
                    }
                    else if (!hasData && !image.IsHole(block)) hasData = true;
                }
                if (hasData && !hasChunks) chunkless.Add(i);
                else imageBytes += image.Size;
                // Each map of a 2 TiB image is 16 MiB of large-object heap (file bytes + entries) that is garbage once
                // read; without a collection between maps the heap grew to ~490 MiB over 100 of them. The live data are
                // two dictionaries of reference-free structs, so a full collection costs next to nothing here.
                if (image.BlockCount >= LargeMapBlocks) GC.Collect();
            }
            catch (BackyException)
            {
                known = false; // purge would sweep nothing either (warning 1052); the revision's chunks are unknown
                chunkless.Add(i);
            }
        }
        const int damagedUser = int.MaxValue; // never a revision index: every chunk it names becomes shared or unshown
        foreach (var path in damagedMaps)
        {
            try
            {
                var map = ChunkMapReader.Read(path);
                for (long block = 0; block < map.BlockCount; block++)
                    if (map.Entries[block] != ChunkMap.Hole)
                    {
                        var chunk = new StoredChunk(ChunkStoreKind.Current, map.Entries[block]);
                        owner[chunk] = owner.ContainsKey(chunk) ? Shared : damagedUser;
                    }
            }
            catch (Exception e) when (e is BackyException or IOException) { known = false; }
        }
        var exclusive = new long[revisions.Count];
        foreach (var (chunk, user) in owner)
            if (user >= 0 && user < revisions.Count)
                exclusive[user] += sizes.GetValueOrDefault(chunk);
        var result = new Dictionary<string, long?>(StringComparer.Ordinal);
        for (var i = 0; i < revisions.Count; i++)
            result[revisions[i].Id] = known && !chunkless.Contains(i) ? exclusive[i] : null;
        return new JobSpace(storedBytes, imageBytes, result);
    }
}
