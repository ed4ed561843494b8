namespace Backy.Storage.Restore;

/// <summary>
/// The engine's own target kinds: a path (regular file, block or character device, FIFO: <see cref="PathTarget"/>),
/// stdout (<see cref="StdoutTarget"/>), a stream, and any public <see cref="IRestoreTarget"/> (an rbd image) through
/// <c>SeamTarget</c>. The engine calls <see cref="Open"/> once, after it has read the revision's chunk map
/// (so that a target can never destroy the map it is restored from), then writes every block exactly once in
/// increasing offsets, then <see cref="CompleteAsync"/>. After any failure past <see cref="Open"/> it calls
/// <see cref="Abandon"/>. Errors are <see cref="BackyException"/>s of one line naming the target.
/// </summary>
internal interface IImageTarget : IDisposable
{
    /// <summary>How messages and the log name the target ("stdout", the path as given).</summary>
    string Name { get; }

    /// <summary>Opens (creates, sizes) the target for an image of <paramref name="imageSize"/> bytes.</summary>
    /// <param name="jobDirectory">The job being restored from: a target inside it is refused.</param>
    void Open(long imageSize, string jobDirectory);

    /// <summary>
    /// Writes one block's data at <paramref name="offset"/>. The task completes when the target no longer needs
    /// <paramref name="data"/>'s buffer (for librbd's zero-copy writes: when the write completed); only then does
    /// the engine reuse it.
    /// </summary>
    ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>
    /// How many writes the engine may leave pending at a time (each holding its block buffer): 1, the default, for
    /// targets written in order by one writer (a stream, stdout); the target's concurrency for an rbd image.
    /// </summary>
    int WritesInFlight => 1;

    /// <summary>An all-zero block: a target that reads as zeros there already (a fresh regular file) skips it.</summary>
    ValueTask WriteZerosAsync(long offset, ReadOnlyMemory<byte> zeros, CancellationToken cancellationToken);

    /// <summary>Makes the written image durable where the kind allows (fsync of a file or block device).</summary>
    Task CompleteAsync(CancellationToken cancellationToken);

    /// <summary>
    /// After a failure: undoes what the restore itself created (a new file is removed; an existing file, a device, or
    /// whatever a symbolic link points to is never deleted) and says what is left, for the error line
    /// ("the partial file was removed", "'x' holds a partial image"), or "" when there is nothing to say (the target
    /// was refused before anything was opened).
    /// </summary>
    string Abandon();
}
