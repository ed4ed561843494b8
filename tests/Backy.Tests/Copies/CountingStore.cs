using Backy.Storage.Copies;

namespace Backy.Tests.Copies;

/// <summary>Counts the PUTs that reach the real store (restic-style wrapper, no behaviour of its own).</summary>
public sealed class CountingStore(IObjectStore inner) : IObjectStore
{
    private int _puts, _chunkPuts;
    public int Puts => _puts;
    public int ChunkPuts => _chunkPuts;

    public string Describe(string key) => inner.Describe(key);

    public Task PutAsync(string key, ReadOnlyMemory<byte> content, DateTimeOffset? lockUntil, CancellationToken cancellationToken)
    {
        if (!key.EndsWith(CopyLayout.Marker, StringComparison.Ordinal)) Interlocked.Increment(ref _puts);
        if (key.Contains("/" + CopyLayout.ChunksPrefix, StringComparison.Ordinal)) Interlocked.Increment(ref _chunkPuts);
        return inner.PutAsync(key, content, lockUntil, cancellationToken);
    }

    public Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);
    public Task<int?> GetIntoAsync(string key, Memory<byte> destination, CancellationToken cancellationToken) => inner.GetIntoAsync(key, destination, cancellationToken);
    public IAsyncEnumerable<StoredObject> ListAsync(string prefix, bool recursive, CancellationToken cancellationToken) => inner.ListAsync(prefix, recursive, cancellationToken);
    public int Extensions => _extensions;
    private int _extensions;
    public Task<DateTimeOffset?> GetRetentionAsync(string key, CancellationToken cancellationToken) => inner.GetRetentionAsync(key, cancellationToken);
    public Task ExtendRetentionAsync(string key, DateTimeOffset until, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _extensions);
        return inner.ExtendRetentionAsync(key, until, cancellationToken);
    }
    public Task DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);
}
