using System.Text;
using Backy.Storage.ChunkMaps;
using Backy.Storage.Chunks;
using Backy.Storage.Revisions;

namespace Backy.Storage.Copies;

/// <summary>
/// One job's copy in an object store (<c>PREFIX/JOB/</c>, <see cref="CopyLayout"/>): typed reads and writes of
/// its objects through the cipher. Reads check everything they read (a chunk decodes and hashes to its id, a
/// chunk map carries its checksum, an encrypted object authenticates). Stateless and thread-safe.
/// </summary>
public sealed class CopyRepository
{
    public IObjectStore Store { get; }
    /// <summary><c>PREFIX/JOB/</c>.</summary>
    public string JobPrefix { get; }
    public CopyCipher Cipher { get; }

    /// <summary>Room for any stored chunk object: the largest chunk file plus the cipher's overhead.</summary>
    public static readonly int ChunkObjectCapacity = ChunkStore.ScratchSize + CopyCipher.Overhead;

    public CopyRepository(IObjectStore store, string jobPrefix, CopyCipher cipher)
    {
        Store = store;
        JobPrefix = jobPrefix.Length == 0 || jobPrefix.EndsWith('/') ? jobPrefix : jobPrefix + "/";
        Cipher = cipher;
    }

    public string Url => Store.Describe(JobPrefix).TrimEnd('/');
    public string Describe(string relativeKey) => Store.Describe(JobPrefix + relativeKey);

    /// <summary>
    /// Reads the marker and checks the key against it; with <paramref name="create"/> a copy without one gets
    /// it (the first copy). Returns false when there is no copy here (and none was created).
    /// </summary>
    public async Task<bool> OpenAsync(bool create, CancellationToken cancellationToken)
    {
        var bytes = await Store.GetAsync(JobPrefix + CopyLayout.Marker, cancellationToken).ConfigureAwait(false);
        if (bytes is not null)
        {
            CopyMarker.Parse(Encoding.UTF8.GetString(bytes), Describe(CopyLayout.Marker)).Check(Cipher, Url);
            return true;
        }
        if (!create) return false;
        await Store.PutAsync(JobPrefix + CopyLayout.Marker, Encoding.UTF8.GetBytes(CopyMarker.For(Cipher).Serialize()), null, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Ids of the revisions whose <c>.rev</c> is in the copy (the visible ones).</summary>
    public async Task<HashSet<string>> ListRevisionIdsAsync(CancellationToken cancellationToken)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var o in Store.ListAsync(JobPrefix, recursive: false, cancellationToken).ConfigureAwait(false))
            if (CopyLayout.RevisionIdOf(o.Key[JobPrefix.Length..]) is { } id)
                ids.Add(id);
        return ids;
    }

    /// <summary>Every readable revision of the copy, oldest first, and the reasons of the unreadable ones.</summary>
    public async Task<(IReadOnlyList<Revision> Revisions, IReadOnlyList<string> Damaged)> LoadRevisionsAsync(CancellationToken cancellationToken)
    {
        var ids = await ListRevisionIdsAsync(cancellationToken).ConfigureAwait(false);
        var revisions = new List<Revision>();
        var damaged = new List<string>();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (id, ct) =>
        {
            try
            {
                var r = await ReadRevisionAsync(id, ct).ConfigureAwait(false);
                lock (revisions) revisions.Add(r);
            }
            catch (BackyException e) { lock (damaged) damaged.Add(e.Message); }
        }).ConfigureAwait(false);
        revisions.Sort(RevisionOrder.Compare);
        damaged.Sort(StringComparer.Ordinal);
        return (revisions, damaged);
    }

    public async Task<Revision> ReadRevisionAsync(string id, CancellationToken cancellationToken)
    {
        var key = CopyLayout.Revision(id);
        var text = Encoding.UTF8.GetString(await ReadAsync(key, cancellationToken).ConfigureAwait(false));
        Revision r;
        try { r = RevisionFile.Parse(text); }
        catch (Exception e) when (e is BackyException or FormatException or YamlDotNet.Core.YamlException or InvalidCastException)
        {
            throw new CopyDamagedException(Describe(key), $"is not a revision file - {e.Message}");
        }
        if (r.Id != id) throw new CopyDamagedException(Describe(key), $"names revision {r.Id}");
        return r;
    }

    public Task<ChunkMap> ReadChunkMapAsync(string id, CancellationToken cancellationToken) =>
        ReadChunkMapAtAsync(CopyLayout.ChunkMap(id), cancellationToken);

    /// <summary>A chunk map under any name (a revision's, or a pending one).</summary>
    public async Task<ChunkMap> ReadChunkMapAtAsync(string key, CancellationToken cancellationToken)
    {
        var bytes = await ReadAsync(key, cancellationToken).ConfigureAwait(false);
        try { return ChunkMapReader.Parse(bytes, Describe(key)); }
        catch (BackyException e) when (e is not CopyDamagedException) { throw new CopyDamagedException(Describe(key), e.Message); }
    }

    /// <summary>Whole plain object; missing is damage (a visible revision names it).</summary>
    private async Task<byte[]> ReadAsync(string relativeKey, CancellationToken cancellationToken)
    {
        var stored = await Store.GetAsync(JobPrefix + relativeKey, cancellationToken).ConfigureAwait(false)
            ?? throw new CopyDamagedException(Describe(relativeKey), "is missing");
        return Cipher.Open(stored, relativeKey, Describe(relativeKey));
    }

    /// <summary>
    /// Reads a chunk object, opens and decodes it into <paramref name="destination"/> and checks its hash;
    /// returns the block's length. <paramref name="buffer"/> holds <see cref="ChunkObjectCapacity"/> bytes,
    /// <paramref name="plain"/> <see cref="ChunkStore.ScratchSize"/> (unused without encryption).
    /// </summary>
    public async Task<int> ReadChunkAsync(ChunkId id, Memory<byte> destination, byte[] buffer, byte[] plain, CancellationToken cancellationToken)
    {
        var key = CopyLayout.Chunk(Cipher.ChunkName(id));
        var n = await Store.GetIntoAsync(JobPrefix + key, buffer, cancellationToken).ConfigureAwait(false)
            ?? throw new ChunkCorruptedException(id, null, Describe(key), "missing");
        return DecodeChunk(id, key, buffer.AsSpan(0, n), destination.Span, plain);
    }

    private int DecodeChunk(ChunkId id, string key, ReadOnlySpan<byte> stored, Span<byte> destination, byte[] plain)
    {
        ReadOnlySpan<byte> file = stored;
        if (Cipher.Encrypts)
        {
            if (stored.Length - CopyCipher.Overhead > plain.Length)
                throw new ChunkCorruptedException(id, null, Describe(key), $"object too large ({stored.Length} bytes)");
            file = plain.AsSpan(0, Cipher.Open(stored, key, plain, Describe(key)));
        }
        var length = ChunkStore.DecodeImage(id, Describe(key), file, destination);
        var actual = ChunkId.Of(destination[..length]);
        if (actual != id)
            throw new ChunkCorruptedException(id, actual, Describe(key), $"content hashes to {actual}");
        return length;
    }

    /// <summary>Names (below <c>chunks/</c>) of every chunk object in the copy.</summary>
    public async Task<HashSet<string>> ListChunkNamesAsync(CancellationToken cancellationToken)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var o in Store.ListAsync(JobPrefix + CopyLayout.ChunksPrefix, recursive: true, cancellationToken).ConfigureAwait(false))
            if (CopyLayout.ChunkNameOf(o.Key[JobPrefix.Length..]) is { } name)
                names.Add(name);
        return names;
    }

    /// <summary>The store key of a chunk's object.</summary>
    public string ChunkKey(ChunkId id) => JobPrefix + CopyLayout.Chunk(Cipher.ChunkName(id));

    /// <summary>Uploads a local chunk file image (sealed into <paramref name="sealBuffer"/> when encrypting).</summary>
    public Task PutChunkAsync(ChunkId id, ReadOnlyMemory<byte> fileImage, byte[] sealBuffer, DateTimeOffset? lockUntil, CancellationToken cancellationToken)
    {
        var key = CopyLayout.Chunk(Cipher.ChunkName(id));
        ReadOnlyMemory<byte> content = fileImage;
        if (Cipher.Encrypts)
            content = sealBuffer.AsMemory(0, Cipher.Seal(fileImage.Span, key, sealBuffer));
        return Store.PutAsync(JobPrefix + key, content, lockUntil, cancellationToken);
    }

    public Task PutAsync(string relativeKey, ReadOnlySpan<byte> plain, DateTimeOffset? lockUntil, CancellationToken cancellationToken) =>
        Store.PutAsync(JobPrefix + relativeKey, Cipher.Seal(plain, relativeKey), lockUntil, cancellationToken);

    public Task DeleteAsync(string relativeKey, CancellationToken cancellationToken) =>
        Store.DeleteAsync(JobPrefix + relativeKey, cancellationToken);
}
