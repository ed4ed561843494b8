using Backy.Storage.Revisions;

namespace Backy.Storage.Restore;

public sealed partial class RestoreEngine
{
    /// <summary>
    /// Restores the whole revision into <paramref name="target"/> (an RBD image): blocks in order from the decode
    /// window, the target keeping several writes in flight; holes are skipped where the target reads unwritten
    /// space as zeroes and zeroed otherwise; flushed before returning.
    /// </summary>
    public Task RestoreToTargetAsync(Revision revision, IRestoreTarget target, CancellationToken cancellationToken) =>
        RestoreAsync(revision, new SeamTarget(target), cancellationToken);

    /// <summary>The engine's internal target interface over the public seam. The caller owns (and disposes) the target.</summary>
    private sealed class SeamTarget(IRestoreTarget target) : IImageTarget
    {
        public string Name => target.Name;

        // Creating or resizing an image is one short librbd call; the engine's Open is synchronous.
        public void Open(long imageSize, string jobDirectory) => target.PrepareAsync(imageSize, CancellationToken.None).GetAwaiter().GetResult();

        public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
            target.WriteAsync(offset, data, cancellationToken);

        // Positional writes: the engine keeps as many pending as the target takes at once.
        public int WritesInFlight => Math.Max(1, target.Concurrency);

        public ValueTask WriteZerosAsync(long offset, ReadOnlyMemory<byte> zeros, CancellationToken cancellationToken) =>
            target.UnwrittenReadsAsZeroes ? ValueTask.CompletedTask : target.WriteZeroesAsync(offset, zeros.Length, cancellationToken);

        public Task CompleteAsync(CancellationToken cancellationToken) => target.FlushAsync(cancellationToken);

        public string Abandon() => $"{target.Name} holds a partial image";

        public void Dispose() { }
    }
}
