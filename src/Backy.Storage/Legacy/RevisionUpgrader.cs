using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.IO;
using Backy.Storage.Jobs;
using Backy.Storage.Images;
using Backy.Storage.Progress;
using Backy.Storage.Revisions;

namespace Backy.Storage.Legacy;

/// <summary>
/// Converts one legacy revision in place. The crash windows, in order (S0 = untouched):
/// <list type="number">
/// <item>S0 -> S1: new chunks are written and committed (temp + sync + rename), then our chunk map is
/// written durably as <c>&lt;id&gt;.upgrade</c>. The .rev still says the old format; old data untouched.</item>
/// <item>S1 -> S2: the old data file <c>&lt;id&gt;</c> is renamed to <c>&lt;id&gt;.legacy</c> (readers of a
/// legacy revision look there first).</item>
/// <item>S2 -> S3: <c>&lt;id&gt;.upgrade</c> is renamed to <c>&lt;id&gt;</c>.</item>
/// <item>S3 -> S4: the .rev is rewritten atomically with our backend_type: THE switch.</item>
/// <item>S4: <c>&lt;id&gt;.legacy</c> and the old chunks no other legacy revision uses are deleted.</item>
/// </list>
/// <see cref="UpgradeRecovery"/> rolls S1..S3 back to S0 (a purge between the crash and the resume may
/// have deleted new chunks that only the staged map referenced) and finishes S4.
/// </summary>
public sealed class RevisionUpgrader
{
    private readonly RevisionStore _store;
    private readonly JobDirectory _job;
    private readonly LegacyReferences _references;
    private readonly LegacyChunkStore _legacyChunks;

    /// <param name="store">The job's open revision store (the <c>.backup</c> lock): the switch writes the .rev.</param>
    public RevisionUpgrader(RevisionStore store, LegacyReferences references)
    {
        _store = store;
        var job = store.Job;
        _job = job;
        _references = references;
        _legacyChunks = new LegacyChunkStore(job.Chunks.Directory);
    }

    /// <summary>Test seam: called after each step with its name, so that tests can stop a conversion in
    /// every crash window ("copied", "staged", "parked", "placed", "switched").</summary>
    internal Action<string>? Checkpoint { get; init; }

    /// <summary>Counts converted blocks (<see cref="JobUpgrader.Progress"/>).</summary>
    internal ProgressCounter? Progress { get; init; }

    /// <summary>Blocks converted at once: one per core, like a backup's workers.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Returns the number of new chunk files written and old chunk files deleted.</summary>
    public (long Written, long Deleted) Convert(Revision revision, bool forcedWrite, CancellationToken cancellationToken)
    {
        var mapPath = _job.ChunkMapPath(revision.Id);
        var staged = mapPath + LegacyFormat.StagedMapSuffix;
        var parked = mapPath + LegacyFormat.ParkedSuffix;

        var (map, hashes, written) = CopyData(revision, forcedWrite, cancellationToken);
        Checkpoint?.Invoke("copied");

        ChunkMapWriter.Write(staged, map, RevisionFile.ReadOnlyMode);
        Checkpoint?.Invoke("staged");
        File.Move(mapPath, parked);
        DurableFile.FsyncDirectory(_job.Path);
        Checkpoint?.Invoke("parked");
        File.Move(staged, mapPath);
        DurableFile.FsyncDirectory(_job.Path);
        Checkpoint?.Invoke("placed");
        _store.SetBackendType(revision.Id, Revision.OurBackendType, revision.IsComplete);
        Checkpoint?.Invoke("switched");

        File.Delete(parked);
        long deleted = 0;
        foreach (var hash in _references.Release(hashes))
            if (_legacyChunks.Delete(hash)) deleted++;
        DurableFile.FsyncDirectory(_job.Path);
        return (written, deleted);
    }

    /// <summary>
    /// Reads the old image (checking every old chunk) and stores it as new chunks. Blocks are independent
    /// (each has its own map entry), so they are converted in parallel, one buffer pair per worker.
    /// </summary>
    private (ChunkMap Map, IReadOnlyCollection<string> Hashes, long Written) CopyData(
        Revision revision, bool forcedWrite, CancellationToken cancellationToken)
    {
        IRevisionImage image;
        try { image = LegacyImages.Open(_job.Path, revision); }
        catch (Exception e) when (e is BackyException or IOException) { throw new LegacyDataException(e.Message, e); }

        using (image)
        {
            var hashes = image is LegacyChunkedImage chunked ? chunked.Hashes().ToList() : [];
            var map = new ChunkMap(image.Size);
            using var session = _job.Chunks.BeginWrite(forcedWrite);
            var options = new ParallelOptions { MaxDegreeOfParallelism = Workers, CancellationToken = cancellationToken };
            try
            {
                Parallel.For(0, image.BlockCount, options,
                    () => (Block: GC.AllocateUninitializedArray<byte>(Blocks.Size), Scratch: GC.AllocateUninitializedArray<byte>(ChunkStore.ScratchSize)),
                    (block, _, buffers) =>
                    {
                        ConvertBlock(image, block, map, session, buffers.Block, buffers.Scratch);
                        Progress?.Add(1, image.LengthOf(block));
                        return buffers;
                    },
                    _ => { });
            }
            catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(x => x is LegacyDataException) is { } bad)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(bad).Throw();
            }
            session.Commit();
            Progress?.Add(0, 0, session.BytesWritten);
            return (map, hashes, session.ChunksWritten);
        }
    }

    private static void ConvertBlock(IRevisionImage image, long block, ChunkMap map, ChunkWriteSession session, byte[] buffer, byte[] scratch)
    {
        bool present;
        try { present = image.ReadBlock(block, buffer); }
        catch (Exception e) when (e is BackyException or IOException)
        {
            throw new LegacyDataException($"block {block}: {e.Message}", e);
        }
        if (!present) return;
        var data = buffer.AsSpan(0, image.LengthOf(block));
        if (Blocks.IsAllZero(data)) return; // our format stores zeros as holes
        var id = ChunkId.Of(data);
        map.Entries[block] = id;
        session.Write(id, data, scratch);
    }
}
